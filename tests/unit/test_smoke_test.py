"""The CD smoke test passes on a healthy API and names the check that fails otherwise.

The API is replaced by an httpx MockTransport: the script's own logic (which responses count
as healthy) is under test here; against the real stack it runs in CD after each deployment.
"""

from __future__ import annotations

import json

import httpx
import pytest

from scripts.smoke_test import SmokeFailure, main, run_checks


def fake_api(
    *, ready: int = 200, retry_case: str | None = None, post_status: int = 200
) -> httpx.MockTransport:
    cases: dict[str, str] = {}

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/healthz":
            return httpx.Response(200, json={"status": "ok"})
        if request.url.path == "/readyz":
            return httpx.Response(ready, json={"ready": ready == 200})
        body = json.loads(request.content)
        if body.get("channel") not in {"chat", "email", "voice"} or not body.get("text"):
            return httpx.Response(
                422, json={"status": 422}, headers={"content-type": "application/problem+json"}
            )
        if post_status >= 500:
            return httpx.Response(post_status, text="Internal Server Error")
        seen = body["message_id"] in cases
        case_id = cases.setdefault(body["message_id"], f"case-{len(cases) + 1}")
        if seen and retry_case is not None:
            case_id = retry_case
        return httpx.Response(post_status, json={"case_id": case_id})

    return httpx.MockTransport(handle)


def client_for(transport: httpx.MockTransport) -> httpx.Client:
    return httpx.Client(base_url="http://api.test", transport=transport)


def test_a_healthy_api_passes_every_check() -> None:
    observed = run_checks(client_for(fake_api()), "run1")
    assert observed == {"case_id": "case-1", "first_status": "200"}


def test_still_classifying_is_accepted() -> None:
    assert run_checks(client_for(fake_api(post_status=202)), "run1")["first_status"] == "202"


@pytest.mark.parametrize(
    ("api", "failing_check"),
    [
        (fake_api(ready=503), "readiness"),
        (fake_api(post_status=500), "message accepted"),
        (fake_api(retry_case="case-other"), "same case"),
    ],
)
def test_a_broken_api_fails_with_the_check_named(api: httpx.MockTransport, failing_check: str) -> None:
    with pytest.raises(SmokeFailure, match=failing_check):
        run_checks(client_for(api), "run1")


def test_the_command_exits_non_zero_on_failure() -> None:
    assert main(["--base-url", "http://api.test"], transport_factory=lambda: fake_api(ready=503)) == 1
    assert main(["--base-url", "http://api.test"], transport_factory=fake_api) == 0
