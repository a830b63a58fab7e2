"""Post-deploy smoke test: `python -m scripts.smoke_test --base-url https://cc.staging.example`.

Run by the CD pipeline after every deployment (staging, then production). It proves the
deployed stack accepts a message end to end, without touching real customers' cases:

1. `/healthz` answers 200 and `/readyz` answers 200 (able to accept durably);
2. a malformed body gets a 422 problem+json and starts nothing;
3. a synthetic message (fixed `message_id` per run, channel `chat`) is accepted (200 with a
   category, or 202 still classifying) with a case id;
4. posting the same message again lands on the same case (idempotent intake).

Authentication: the channel API key from `CC_SMOKE_API_KEY` (an environment secret in CD).
Exits 0 when every check passes, 1 with the failing check's name otherwise.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import uuid
from collections.abc import Callable

import httpx

log = logging.getLogger("smoke_test")

SMOKE_TEXT = "Smoke test from the deployment pipeline: what are your opening hours?"


class SmokeFailure(RuntimeError):
    """A check failed; the message names it."""


def _expect(condition: bool, check: str, response: httpx.Response) -> None:
    if not condition:
        raise SmokeFailure(f"{check}: HTTP {response.status_code} {response.text[:300]}")


def run_checks(client: httpx.Client, run_id: str) -> dict[str, str]:
    """Run every check against `client` (base URL and auth set); return what was observed."""
    health = client.get("/healthz")
    _expect(health.status_code == 200, "liveness /healthz", health)
    ready = client.get("/readyz")
    _expect(ready.status_code == 200, "readiness /readyz", ready)

    invalid = client.post("/v1/messages", json={"text": "", "channel": "fax"})
    _expect(
        invalid.status_code == 422
        and invalid.headers.get("content-type", "").startswith("application/problem+json"),
        "bad input answers 422 problem+json",
        invalid,
    )

    body = {"text": SMOKE_TEXT, "channel": "chat", "message_id": f"smoke-{run_id}"}
    first = client.post("/v1/messages", json=body)
    _expect(first.status_code in (200, 202), "message accepted", first)
    case_id = str(first.json().get("case_id", ""))
    _expect(bool(case_id), "accepted message has a case id", first)

    again = client.post("/v1/messages", json=body)
    _expect(again.status_code in (200, 202), "retried message accepted", again)
    _expect(again.json().get("case_id") == case_id, "retry lands on the same case", again)
    return {"case_id": case_id, "first_status": str(first.status_code)}


def main(
    argv: list[str] | None = None, transport_factory: Callable[[], httpx.BaseTransport] | None = None
) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--timeout", type=float, default=40.0, help="per request, seconds")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="smoke: %(message)s")
    headers = {"X-API-Key": os.environ["CC_SMOKE_API_KEY"]} if os.environ.get("CC_SMOKE_API_KEY") else {}
    transport = transport_factory() if transport_factory else None
    with httpx.Client(
        base_url=args.base_url, headers=headers, timeout=args.timeout, transport=transport
    ) as client:
        try:
            observed = run_checks(client, uuid.uuid4().hex[:12])
        except (SmokeFailure, httpx.HTTPError, ValueError) as exc:
            log.error("FAILED %s", exc)
            return 1
    log.info("passed: case %s (HTTP %s)", observed["case_id"], observed["first_status"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
