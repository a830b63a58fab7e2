"""`python -m eval {run,compare,calibrate,rescore,promote,gate,guard,pii}`: the evaluation harness CLI.

run        score a labelled JSONL set through the worker's own pipeline + acceptance policy
compare    side-by-side headline metrics of two runs
calibrate  fit acceptance thresholds (a challenger policy) to a run's predictions.jsonl
rescore    re-apply a (new) acceptance policy to a run's recorded predictions, no LLM calls
promote    replace the champion policy by a challenger that keeps accepted precision (and safety)
           on the frozen test run; every decision is appended to the promotions log
gate       exit 1 when a run is below the CI floor (safety recall, macro-F1, safety auto-routed elsewhere)
guard      guard-only and injection-detector-only numbers on data sets (no LLM)
pii        recall of the PII redactor per entity type on the tagged PII corpus
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

DESCRIPTION = "Evaluation harness of the contact-center classifier."
EXIT_OK = 0
EXIT_FAIL = 1
EXIT_USAGE = 2


class UsageError(Exception):
    """A bad input file or argument: reported in one line, exit code 2."""


def _out(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def _err(text: str) -> None:
    sys.stderr.write(text if text.endswith("\n") else text + "\n")


def _read_metrics(path: Path) -> dict[str, Any]:
    if path.is_dir():
        path = path / "metrics.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise UsageError(f"{path}: not a metrics object")
    return data


def cmd_run(args: argparse.Namespace) -> int:
    from eval.runner import DatasetError, RunOptions, run

    if args.limit is not None and args.limit < 1:
        _err("--limit must be >= 1")
        return EXIT_USAGE
    options = RunOptions(
        dataset=args.dataset,
        out=args.out,
        backend=args.backend,
        prompt=args.prompt,
        baseline=args.baseline,
        limit=args.limit,
        policy=args.policy,
        progress=not args.no_progress,
    )
    try:
        result = run(options)
    except DatasetError as exc:
        _err(f"dataset error: {exc}")
        return EXIT_USAGE
    m = result.metrics
    summary = (
        f"n={m['n']} accuracy={m['accuracy']} macro_f1={m['macro_f1']} "
        f"safety_recall={m['safety_recall']} coverage={m['coverage']} "
        f"accepted_precision={m['accepted_precision']} ece={m['ece']} "
        f"latency_p50_ms={m['latency_ms']['p50']}"
    )
    if m.get("baseline"):
        b = m["baseline"]
        summary += (
            f"\nbaseline {b['prompt_version']}: accuracy={b['accuracy']} macro_f1={b['macro_f1']} "
            f"safety_recall={b['safety_recall']} latency_p50_ms={b['latency_ms']['p50']} "
            f"(latency_p50_ratio={m['latency_p50_ratio']})"
        )
    _out(
        f"{summary}\nwrote {args.out}/metrics.json, predictions.jsonl, report.md, confusion.png, "
        "reliability.png\n"
    )
    return EXIT_OK


def cmd_compare(args: argparse.Namespace) -> int:
    from eval.report import render_comparison

    a, b = _read_metrics(args.run_a), _read_metrics(args.run_b)
    _out(render_comparison(a, b, str(args.run_a), str(args.run_b)))
    return EXIT_OK


def cmd_calibrate(args: argparse.Namespace) -> int:
    from eval.calibrate import CalibrationError, run_calibration

    try:
        report = run_calibration(args.predictions, args.out, args.target_precision, args.version)
    except CalibrationError as exc:
        _err(f"calibration failed: {exc}")
        return EXIT_FAIL
    _out(report.markdown)
    if report.thresholds is None:
        _err(f"no thresholds reach accepted precision {args.target_precision}; {args.out} unchanged")
        return EXIT_FAIL
    return EXIT_OK


def cmd_rescore(args: argparse.Namespace) -> int:
    from eval.rescore import rescore

    if not (args.run / "predictions.jsonl").is_file():
        _err(f"{args.run}: no predictions.jsonl")
        return EXIT_USAGE
    metrics = rescore(args.run, args.policy, args.out, args.reguard)
    _out(
        f"n={metrics['n']} accuracy={metrics['accuracy']} macro_f1={metrics['macro_f1']} "
        f"safety_recall={metrics['safety_recall']} coverage={metrics['coverage']} "
        f"accepted_precision={metrics['accepted_precision']}\n"
    )
    return EXIT_OK


def _fmt(value: Any) -> str:
    return "n/a" if value is None else (f"{value:.4f}" if isinstance(value, float) else str(value))


def cmd_promote(args: argparse.Namespace) -> int:
    import getpass

    from eval.promote import PromotionError, promote

    policy_file = args.policy_file
    if policy_file is None:
        from core.config import Settings

        policy_file = Settings().policy_file
    try:
        result = promote(
            policy_file=policy_file,
            test_run=args.test_run,
            challenger=args.challenger,
            rollback_to=args.rollback_to,
            log_path=args.log,
            test_dataset=args.test_dataset,
            actor=args.actor or getpass.getuser(),
            reason=args.reason,
        )
    except PromotionError as exc:
        _err(f"promotion refused: {exc}")
        return EXIT_USAGE
    for warning in result.warnings:
        _err(f"warning: {warning}")
    entry = result.entry
    lines = [f"test run {entry['test_run']['dir']} (n={entry['test_run']['n']})"]
    for role in ("champion", "challenger"):
        m = entry["test_metrics"][role]
        lines.append(
            f"{role:<10} accepted_precision={_fmt(m['accepted_precision'])} coverage={_fmt(m['coverage'])} "
            f"safety_recall={_fmt(m['safety_recall'])} "
            f"safety_auto_routed_elsewhere={m['safety_auto_routed_elsewhere']}"
        )
    log_path = args.log or policy_file.with_name("policy-promotions.jsonl")
    if not result.promoted:
        lines.append("rejected: " + "; ".join(result.reasons))
        lines.append(f"{policy_file} unchanged; logged to {log_path}")
        _err("\n".join(lines))
        return EXIT_FAIL
    previous, new = entry["previous"], entry["new"]
    lines.append(
        f"{result.decision}: {previous['version']} -> {new['version']} "
        f"(sha256 {new['sha256'][:12]}), written to {policy_file}; logged to {log_path}"
    )
    _out("\n".join(lines) + "\n")
    return EXIT_OK


def cmd_gate(args: argparse.Namespace) -> int:
    metrics = _read_metrics(args.metrics)
    checks: list[tuple[str, float]] = [("safety_recall", args.min_safety_recall)]
    if args.min_macro_f1 is not None:
        checks.append(("macro_f1", args.min_macro_f1))
    failures = []
    for name, floor in checks:
        value = metrics.get(name)
        if not isinstance(value, int | float):
            failures.append(f"{name} is missing from {args.metrics} (needs >= {floor})")
        elif value < floor:
            failures.append(f"{name} = {value:.4f} is below the floor {floor:.4f}")
    # The failure that matters most: a true safety message sent to an automated non-safety queue.
    elsewhere = metrics.get("safety_auto_routed_elsewhere_ids")
    if not isinstance(elsewhere, list):
        failures.append(f"safety_auto_routed_elsewhere_ids is missing from {args.metrics}")
    elif len(elsewhere) > args.max_safety_auto_routed_elsewhere:
        failures.append(
            f"{len(elsewhere)} true safety message(s) auto-routed to another queue "
            f"(allowed: {args.max_safety_auto_routed_elsewhere}): {', '.join(map(str, elsewhere[:20]))}"
        )
    n = metrics.get("n")
    if failures:
        _err(f"eval gate FAILED (n={n}):\n  " + "\n  ".join(failures))
        missed = metrics.get("safety_missed_ids") or []
        if missed:
            _err(f"  missed safety messages: {', '.join(map(str, missed[:20]))}")
        return EXIT_FAIL
    passed = ", ".join(f"{name}={metrics[name]:.4f} >= {floor}" for name, floor in checks)
    passed += f", safety auto-routed elsewhere={len(elsewhere or [])}"
    _out(f"eval gate passed (n={n}): {passed}\n")
    return EXIT_OK


def cmd_pii(args: argparse.Namespace) -> int:
    from eval.pii import CorpusError, run_pii

    try:
        results = run_pii(args.dataset, args.out)
    except CorpusError as exc:
        _err(f"dataset error: {exc}")
        return EXIT_USAGE
    for split, r in results.items():
        _out(
            f"{split}: messages={r['messages']} seeded={r['seeded_values']} recall={r['recall']} "
            f"keep_removed={r['keep_values_removed']}/{r['keep_values']}\n"
        )
    _out(f"wrote {args.out}/metrics.json, report.md\n")
    return EXIT_OK


def cmd_guard(args: argparse.Namespace) -> int:
    from eval.guard_only import run_guard_only

    report = run_guard_only(args.dataset, args.out, args.guard_source, args.injection_source)
    lines = [f"{report['guard_version']} / {report['injection_version']}"]
    for name, m in report["datasets"].items():
        lines.append(
            f"{name}: n={m['n']} guard_recall={m['guard_recall']} ({m['guard_raised_safety']}/{m['safety_n']}) "
            f"held_for_human={m['guard_held_for_human_recall']} false_raises={m['guard_false_raises']}/{m['other_n']} "
            f"injection_recall={m['injection_recall']} ({m['injection_flagged']}/{m['injection_n']}) "
            f"injection_false_flags={m['injection_false_flags']}/{m['ordinary_n']}"
        )
    _out("\n".join(lines) + f"\nwrote {args.out}\n")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m eval", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="evaluate a labelled JSONL data set")
    run.add_argument("--dataset", type=Path, required=True, help='JSONL: {"id","text","label",...}')
    run.add_argument(
        "--backend",
        choices=["llamacpp", "ollama", "fake"],
        default=None,
        help="LLM backend (default: CC_LLM_BACKEND / settings)",
    )
    run.add_argument("--prompt", choices=["production", "naive"], default="production")
    run.add_argument(
        "--baseline", action="store_true", help="also run the naive prompt alone, interleaved, for comparison"
    )
    run.add_argument("--limit", type=int, default=None, help="only the first N rows")
    run.add_argument(
        "--policy", type=Path, default=None, help="acceptance thresholds JSON (default: settings.policy_file)"
    )
    run.add_argument("--out", type=Path, required=True, help="output directory")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.set_defaults(handler=cmd_run)

    compare = sub.add_parser("compare", help="compare two runs' headline metrics")
    compare.add_argument("run_a", type=Path, help="run directory (or its metrics.json)")
    compare.add_argument("run_b", type=Path, help="run directory (or its metrics.json)")
    compare.set_defaults(handler=cmd_compare)

    calibrate = sub.add_parser("calibrate", help="fit the acceptance thresholds to a run")
    calibrate.add_argument("--predictions", type=Path, required=True, help="DIR/predictions.jsonl")
    calibrate.add_argument("--out", type=Path, required=True, help="thresholds JSON to write")
    calibrate.add_argument("--target-precision", type=float, default=0.97)
    calibrate.add_argument("--version", default=None, help="policy version (default: derived)")
    calibrate.set_defaults(handler=cmd_calibrate)

    rescore = sub.add_parser("rescore", help="re-apply a policy to a run's predictions (no LLM calls)")
    rescore.add_argument("--run", type=Path, required=True, help="run directory with predictions.jsonl")
    rescore.add_argument("--policy", type=Path, required=True, help="acceptance thresholds JSON")
    rescore.add_argument("--out", type=Path, required=True, help="output directory")
    rescore.add_argument(
        "--reguard",
        type=Path,
        default=None,
        help="the run's data set: re-run the current guard and injection detector on its texts first",
    )
    rescore.set_defaults(handler=cmd_rescore)

    promote = sub.add_parser(
        "promote", help="promote a challenger policy that keeps precision and safety on the test run"
    )
    which = promote.add_mutually_exclusive_group(required=True)
    which.add_argument("--challenger", type=Path, help="acceptance thresholds JSON (eval calibrate --out)")
    which.add_argument(
        "--rollback-to", default=None, metavar="VERSION", help="re-promote a version recorded in the log"
    )
    promote.add_argument(
        "--test-run",
        type=Path,
        required=True,
        help="run directory of the frozen test set (predictions.jsonl)",
    )
    promote.add_argument(
        "--test-dataset",
        type=Path,
        default=Path(__file__).resolve().parent / "data" / "test.jsonl",
        help="the frozen test set the run must have scored (default: eval/data/test.jsonl)",
    )
    promote.add_argument(
        "--policy-file", type=Path, default=None, help="champion policy (default: settings.policy_file)"
    )
    promote.add_argument(
        "--log", type=Path, default=None, help="promotions log (default: policy-promotions.jsonl beside it)"
    )
    promote.add_argument("--reason", default="", help="why (recorded in the log; required for a rollback)")
    promote.add_argument("--actor", default=None, help="who (default: the OS user)")
    promote.set_defaults(handler=cmd_promote)

    gate = sub.add_parser("gate", help="fail (exit 1) when metrics are below the floors")
    gate.add_argument("--metrics", type=Path, required=True, help="DIR/metrics.json")
    gate.add_argument("--min-safety-recall", type=float, required=True)
    gate.add_argument("--min-macro-f1", type=float, default=None)
    gate.add_argument(
        "--max-safety-auto-routed-elsewhere",
        type=int,
        default=0,
        help="true safety messages allowed on an automated non-safety route (default 0)",
    )
    gate.set_defaults(handler=cmd_gate)

    guard = sub.add_parser("guard", help="guard-only and injection-detector-only numbers (no LLM)")
    guard.add_argument("--dataset", type=Path, action="append", required=True, help="JSONL; repeatable")
    guard.add_argument("--out", type=Path, required=True, help="JSON report to write")
    guard.add_argument("--guard-source", type=Path, default=None, help="measure this guard module file")
    guard.add_argument("--injection-source", type=Path, default=None, help="measure this detector file")
    guard.set_defaults(handler=cmd_guard)

    pii = sub.add_parser("pii", help="measure PII redaction recall and false positives")
    pii.add_argument("--dataset", type=Path, default=Path("eval/data/pii-corpus.jsonl"))
    pii.add_argument("--out", type=Path, required=True, help="output directory")
    pii.set_defaults(handler=cmd_pii)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        code = int(args.handler(args))
    except (OSError, json.JSONDecodeError, UsageError) as exc:
        _err(f"error: {exc}")
        code = EXIT_USAGE
    raise SystemExit(code)


if __name__ == "__main__":
    main()
