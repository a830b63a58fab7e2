"""`python -m bench {overhead,e2e,spike,drills}`: each starts its own stack and prints one JSON object."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import Any

from bench.report import emit


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    overhead = sub.add_parser("overhead", help="orchestration overhead with an instant LLM")
    overhead.add_argument("--n", type=int, default=300)
    overhead.add_argument("--concurrency", type=int, default=20)
    e2e = sub.add_parser("e2e", help="end to end with the embedded model vs the bare LLM call")
    e2e.add_argument("--n", type=int, default=50)
    spike = sub.add_parser("spike", help="a burst against an LLM pool of fixed capacity")
    spike.add_argument("--burst", type=int, default=500)
    # 500 ms: the embedded model's service time here, and a pool (8 msgs/s) slower than the
    # orchestration, so capacity_ratio measures whether orchestration keeps the pool busy.
    spike.add_argument("--service-ms", type=int, default=500)
    spike.add_argument("--slots", type=int, default=2, help="concurrent LLM calls per LLM worker")
    spike.add_argument("--llm-workers", type=int, default=2)
    drills = sub.add_parser("drills", help="failure drills; each ends with a consistency check")
    drills.add_argument("--only", nargs="*", default=None)
    drills.add_argument("--messages", type=int, default=40)
    return parser


async def _run(args: argparse.Namespace) -> dict[str, Any]:
    if args.command == "overhead":
        from bench.overhead import overhead

        return await overhead(min(args.n, 5000), args.concurrency)
    if args.command == "e2e":
        from bench.e2e import e2e

        return await e2e(min(args.n, 1000))
    if args.command == "spike":
        from bench.spike import spike

        return await spike(min(args.burst, 5000), args.service_ms, args.slots, args.llm_workers)
    from bench.drills import run_drills

    return await run_drills(args.only, args.messages)


def main() -> None:
    args = _parser().parse_args()
    result = asyncio.run(_run(args))
    emit(result)
    ok = bool(result.get("ok", True))
    # The Temporal SDK can abort at interpreter exit (sdk-python#300): leave once output is flushed.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0 if ok else 1)


if __name__ == "__main__":
    main()
