"""Guard-only and injection-detector-only measurement: no LLM, seconds per data set.

For every row the text is redacted as the API does, then the deterministic safety guard and the
prompt-injection detector run on it. Reported per data set:

- guard recall: safety rows the guard raises;
- guard held for a human: safety rows the guard raises or suppresses (from guard-2026-12-01.1 on
  a suppressed finding keeps the message from being auto-routed);
- guard false raises: non-safety rows the guard raises (a reviewer's minute each);
- injection recall on rows tagged `injection`, false flags on the other rows.

`--guard-source FILE` / `--injection-source FILE` measure another version of the guard or the
detector module (e.g. the previous one, from `git show COMMIT:classifier/safety_guard.py > FILE`)
for a before/after.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from core.models import GuardResult
from core.redaction import redact
from eval.runner import SAFETY, EvalItem, file_sha256, load_dataset

GuardCheck = Callable[[str], GuardResult]
InjectionCheck = Callable[[str], list[str]]


def _load_module(source: Path, name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, source)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {source}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while loading
    spec.loader.exec_module(module)
    return module


def load_guard(source: Path | None) -> tuple[GuardCheck, str]:
    """The production guard, or the guard module stored in `source`."""
    if source is None:
        import classifier.safety_guard as guard

        return guard.check, guard.GUARD_VERSION
    module = _load_module(source, "measured_guard")
    return module.check, str(module.GUARD_VERSION)


def load_injection(source: Path | None) -> tuple[InjectionCheck, str]:
    """The production injection detector, or the detector module stored in `source`."""
    if source is None:
        import classifier.injection as injection

        return injection.detect, injection.INJECTION_VERSION
    module = _load_module(source, "measured_injection")
    return module.detect, str(module.INJECTION_VERSION)


def _rate(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


def _language(item: EvalItem) -> str:
    return next((tag.split(":", 1)[1] for tag in item.tags if tag.startswith("lang:")), "en")


def measure(items: Sequence[EvalItem], guard: GuardCheck, detect: InjectionCheck) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    for item in items:
        text = redact(item.text).text
        result = guard(text)
        rows.append(
            {
                "id": item.id,
                "safety": item.label == SAFETY,
                "injection": "injection" in item.tags,
                "language": _language(item),
                "raised": result.raise_to_safety,
                "suppressed": bool(result.suppressed),
                "needs_human": result.suppressed_needs_human,
                "flagged": bool(detect(text)),
            }
        )
    return summarize(rows)


def summarize(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    safety = [r for r in rows if r["safety"]]
    other = [r for r in rows if not r["safety"]]
    injections = [r for r in rows if r["injection"]]
    ordinary = [r for r in rows if not r["injection"]]
    held = [r for r in safety if r["raised"] or r["needs_human"]]
    by_language: dict[str, dict[str, Any]] = {}
    for language in sorted({r["language"] for r in rows}):
        lang_safety = [r for r in safety if r["language"] == language]
        lang_other = [r for r in other if r["language"] == language]
        by_language[language] = {
            "safety_n": len(lang_safety),
            "guard_recall": _rate(sum(r["raised"] for r in lang_safety), len(lang_safety)),
            "false_raises": sum(r["raised"] for r in lang_other),
            "other_n": len(lang_other),
        }
    return {
        "n": len(rows),
        "safety_n": len(safety),
        "guard_raised_safety": sum(r["raised"] for r in safety),
        "guard_recall": _rate(sum(r["raised"] for r in safety), len(safety)),
        "guard_held_for_human_safety": len(held),
        "guard_held_for_human_recall": _rate(len(held), len(safety)),
        "guard_missed_ids": [r["id"] for r in safety if not r["raised"]],
        "guard_not_held_ids": [r["id"] for r in safety if not (r["raised"] or r["needs_human"])],
        "other_n": len(other),
        "guard_false_raises": sum(r["raised"] for r in other),
        "guard_false_raise_ids": [r["id"] for r in other if r["raised"]],
        "guard_suppressed_other": sum(r["suppressed"] and not r["raised"] for r in other),
        "injection_n": len(injections),
        "injection_flagged": sum(r["flagged"] for r in injections),
        "injection_recall": _rate(sum(r["flagged"] for r in injections), len(injections)),
        "injection_missed_ids": [r["id"] for r in injections if not r["flagged"]],
        "ordinary_n": len(ordinary),
        "injection_false_flags": sum(r["flagged"] for r in ordinary),
        "injection_false_flag_ids": [r["id"] for r in ordinary if r["flagged"]],
        "by_language": by_language,
    }


def run_guard_only(
    datasets: Sequence[Path],
    out: Path,
    guard_source: Path | None = None,
    injection_source: Path | None = None,
) -> dict[str, Any]:
    guard, version = load_guard(guard_source)
    detect, injection_version = load_injection(injection_source)
    report: dict[str, Any] = {
        "guard_version": version,
        "injection_version": injection_version,
        "datasets": {},
    }
    for dataset in datasets:
        metrics = measure(load_dataset(dataset), guard, detect)
        metrics["dataset_sha256"] = file_sha256(dataset)
        report["datasets"][dataset.name] = metrics
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return report
