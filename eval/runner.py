"""Run a labelled data set through the exact worker code path and score it.

Production path per message: `core.redaction.redact` (as the API does) -> `pipeline.run`
(one LLM call + the deterministic safety guard) -> `classifier.policy.decide`. Nothing here
re-implements classification or routing, so what the eval measures is what the worker does.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tqdm import tqdm

from classifier.backends.base import LLMBackendError
from classifier.confidence import NoLabelError
from classifier.factory import build_classifier
from classifier.pipeline import ClassificationPipeline, build_pipeline
from classifier.policy import decide, load_thresholds
from classifier.prompt import PROMPTS
from classifier.service import Classifier
from core.config import Settings
from core.models import (
    AcceptanceThresholds,
    Category,
    Channel,
    ClassificationOutcome,
    ClassificationResult,
    ClassifyInput,
    GuardFinding,
    GuardResult,
    LabelProbabilities,
    Route,
)
from core.redaction import redact
from eval.metrics import (
    accuracy,
    confusion_matrix,
    coverage_and_precision,
    expected_calibration_error,
    latency_summary,
    macro_f1,
    per_class_scores,
    recall_of,
    reliability_bins,
)

LABELS: tuple[str, ...] = tuple(c.value for c in Category)
SAFETY = Category.safety_compliance.value
ERROR_LABEL = "error"
# predictions.jsonl keeps only this much of the (already redacted) text: enough to read a miss.
TEXT_PREVIEW_CHARS = 120
ECE_BINS = 10
# Not recorded: fills the prompt cache so the first timed message is not an outlier.
_WARMUP_TEXT = "What are your opening hours?"
# LLM failures become an error row (routed to human triage) instead of aborting a long run.
_LLM_FAILURES = (LLMBackendError, NoLabelError)


class DatasetError(ValueError):
    """A data set row cannot be evaluated (bad JSON, unknown label or channel, duplicate id)."""


@dataclass(frozen=True)
class EvalItem:
    id: str
    text: str
    label: str
    channel: str
    tags: tuple[str, ...]


@dataclass
class BaselinePrediction:
    """The naive prompt's raw answer: no guard, no policy (the obvious implementation)."""

    label: str | None
    probabilities: dict[str, float] | None
    latency_ms: float
    error: str | None = None


@dataclass
class Prediction:
    """One row of predictions.jsonl: everything `decide` needs, and no raw text."""

    id: str
    label: str
    channel: str
    tags: list[str]
    text: str
    llm_label: str | None
    category: str | None
    route: str
    confidence: float | None
    probabilities: dict[str, float] | None
    label_mass: float | None
    guard_raised: bool
    guard_signals: list[str]
    guard_findings: list[dict[str, str]]
    guard_version: str | None
    policy_version: str
    prompt_version: str
    latency_ms: float
    llm_latency_ms: float | None
    error: str | None = None
    baseline: BaselinePrediction | None = None
    injection_signals: list[str] = field(default_factory=list)
    # The guard suppressed a finding and asks for a human (guard-2026-12-01.1 and later).
    guard_suppressed_needs_human: bool = False

    @property
    def correct(self) -> bool:
        return self.category == self.label

    @property
    def llm_correct(self) -> bool:
        return self.llm_label == self.label

    @property
    def accepted(self) -> bool:
        return self.route != Route.human_triage.value

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Prediction:
        data = dict(raw)
        baseline = data.pop("baseline", None)
        known = {name for name in cls.__dataclass_fields__}
        row = cls(**{k: v for k, v in data.items() if k in known})
        row.baseline = BaselinePrediction(**baseline) if baseline else None
        return row


@dataclass(frozen=True)
class RunOptions:
    dataset: Path
    out: Path
    backend: str | None = None
    prompt: str = "production"
    baseline: bool = False
    limit: int | None = None
    policy: Path | None = None
    progress: bool = True


@dataclass
class RunResult:
    metrics: dict[str, Any]
    predictions: list[Prediction] = field(default_factory=list)


# --------------------------------------------------------------------------- data set


def short_source(source: str) -> str:
    """'ADE-Corpus-V2 DRUG-AE (trunghlt/...)' -> 'ADE-Corpus-V2': a readable per-source tag."""
    head = re.split(r"[\s(,;]", source.strip(), maxsplit=1)[0]
    return head or source.strip()


def parse_item(raw: dict[str, Any], where: str) -> EvalItem:
    try:
        item_id = str(raw["id"])
        text = raw["text"]
        label = raw["label"]
    except KeyError as missing:
        raise DatasetError(f"{where}: missing key {missing}") from None
    if not isinstance(text, str):
        raise DatasetError(f"{where}: 'text' must be a string")
    if label not in LABELS:
        raise DatasetError(f"{where}: unknown label {label!r} (expected one of {LABELS})")
    channel = raw.get("channel") or Channel.chat.value
    if channel not in {c.value for c in Channel}:
        raise DatasetError(f"{where}: unknown channel {channel!r}")
    tags_raw = raw.get("tags") or []
    if isinstance(tags_raw, str):
        tags_raw = [tags_raw]
    tags = tuple(str(t) for t in tags_raw)
    if not tags and raw.get("source"):
        tags = (f"source:{short_source(str(raw['source']))}",)
    return EvalItem(id=item_id, text=text, label=label, channel=channel, tags=tags)


def load_dataset(path: Path, limit: int | None = None) -> list[EvalItem]:
    """Read JSON Lines; blank lines are skipped and unknown keys ignored."""
    items: list[EvalItem] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if limit is not None and len(items) >= limit:
                break
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DatasetError(f"{where}: invalid JSON ({exc.msg})") from None
            if not isinstance(raw, dict):
                raise DatasetError(f"{where}: expected a JSON object")
            item = parse_item(raw, where)
            if item.id in seen:
                raise DatasetError(f"{where}: duplicate id {item.id!r}")
            seen.add(item.id)
            items.append(item)
    return items


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------- running


def _probabilities_dict(values: Any) -> dict[str, float]:
    # Full precision: calibrate re-simulates `decide` on these numbers and must match it exactly.
    return {c.value: float(values.of(c)) for c in Category}


def classify_production(pipeline: ClassificationPipeline, item: EvalItem, redacted: str) -> Prediction:
    """pipeline.run + policy.decide, exactly as the worker chains them."""
    request = ClassifyInput(case_id=item.id, redacted_text=redacted, channel=Channel(item.channel))
    thresholds = pipeline.thresholds
    common: dict[str, Any] = {
        "id": item.id,
        "label": item.label,
        "channel": item.channel,
        "tags": list(item.tags),
        "text": redacted[:TEXT_PREVIEW_CHARS],
        "policy_version": thresholds.version,
        "prompt_version": pipeline.classifier.prompt.version,
    }
    started = time.perf_counter()
    try:
        outcome = pipeline.run(request)
        decision = decide(outcome, datetime.now(timezone.utc))
    except _LLM_FAILURES as exc:
        return Prediction(
            **common,
            llm_label=None,
            category=None,
            route=Route.human_triage.value,
            confidence=None,
            probabilities=None,
            label_mass=None,
            guard_raised=False,
            guard_signals=[],
            guard_findings=[],
            guard_version=None,
            latency_ms=round((time.perf_counter() - started) * 1000.0, 2),
            llm_latency_ms=None,
            error=f"{type(exc).__name__}: {exc}"[:200],
        )
    latency_ms = (time.perf_counter() - started) * 1000.0
    result = outcome.classification
    findings = outcome.guard.findings
    return Prediction(
        **common,
        llm_label=result.label.value,
        category=decision.category.value,
        route=decision.route.value,
        confidence=decision.confidence,
        probabilities=_probabilities_dict(result.probabilities),
        label_mass=result.label_mass,
        guard_raised=outcome.guard.raise_to_safety,
        guard_signals=[f.signal for f in findings],
        # Evidence is left out: it quotes text beyond the stored preview.
        guard_findings=[{"signal": f.signal, "language": f.language} for f in findings],
        guard_version=outcome.guard_version,
        injection_signals=list(outcome.injection_signals),
        guard_suppressed_needs_human=outcome.guard.suppressed_needs_human,
        latency_ms=round(latency_ms, 2),
        llm_latency_ms=result.latency_ms,
    )


def classify_baseline(classifier: Classifier, item: EvalItem, redacted: str) -> BaselinePrediction:
    """The naive prompt alone: the model's written label is the answer."""
    request = ClassifyInput(case_id=item.id, redacted_text=redacted, channel=Channel(item.channel))
    started = time.perf_counter()
    try:
        result = classifier.classify(request)
    except _LLM_FAILURES as exc:
        return BaselinePrediction(
            label=None,
            probabilities=None,
            latency_ms=round((time.perf_counter() - started) * 1000.0, 2),
            error=f"{type(exc).__name__}: {exc}"[:200],
        )
    return BaselinePrediction(
        label=result.label.value,
        probabilities=_probabilities_dict(result.probabilities),
        latency_ms=round((time.perf_counter() - started) * 1000.0, 2),
    )


def _warm_up(classifiers: Iterable[Classifier]) -> None:
    for classifier in classifiers:
        # A failing backend shows up in the recorded rows instead.
        with contextlib.suppress(*_LLM_FAILURES):
            classifier.classify(
                ClassifyInput(case_id="warmup", redacted_text=_WARMUP_TEXT, channel=Channel.chat)
            )


def run(options: RunOptions) -> RunResult:
    """Evaluate the data set and write metrics.json, predictions.jsonl, report.md and plots."""
    from eval.report import write_report

    started_at = datetime.now(timezone.utc)
    wall = time.perf_counter()
    items = load_dataset(options.dataset, options.limit)
    overrides: dict[str, Any] = {}
    if options.backend is not None:
        overrides["llm_backend"] = options.backend
    if options.baseline:
        # Two llama.cpp slots: each prompt keeps its own cached prefix, as a worker with one
        # prompt would, instead of the two evicting each other on every message.
        overrides["llm_max_concurrent"] = 2
    settings = Settings(**overrides)
    thresholds = load_thresholds(options.policy or settings.policy_file)
    classifier = build_classifier(settings, options.prompt)  # the model loads once, here
    pipeline = build_pipeline(classifier, thresholds)
    baseline = Classifier(classifier.backend, PROMPTS["naive"]) if options.baseline else None
    _warm_up([classifier] + ([baseline] if baseline else []))

    predictions: list[Prediction] = []
    progress = tqdm(
        items, desc="eval", unit="msg", file=sys.stderr, disable=not options.progress, leave=False
    )
    for index, item in enumerate(progress):
        redacted = redact(item.text).text
        if baseline is None:
            predictions.append(classify_production(pipeline, item, redacted))
            continue
        # Interleaved, alternating order: both prompts see the same load and cache warmth.
        if index % 2 == 0:
            row = classify_production(pipeline, item, redacted)
            row.baseline = classify_baseline(baseline, item, redacted)
        else:
            base = classify_baseline(baseline, item, redacted)
            row = classify_production(pipeline, item, redacted)
            row.baseline = base
        predictions.append(row)
    progress.close()

    metrics = summarize(predictions, baseline_prompt=baseline.prompt.version if baseline else None)
    metrics.update(
        {
            "backend": classifier.backend.name,
            "model": classifier.backend.model,
            "prompt_version": classifier.prompt.version,
            "policy_version": thresholds.version,
            "policy": json.loads(thresholds.model_dump_json()),
            "guard_version": next((p.guard_version for p in predictions if p.guard_version), None),
            "dataset": str(options.dataset),
            "dataset_sha256": file_sha256(options.dataset),
            "limit": options.limit,
            "started_at": started_at.isoformat(timespec="seconds"),
            "duration_s": round(time.perf_counter() - wall, 2),
        }
    )
    options.out.mkdir(parents=True, exist_ok=True)
    with (options.out / "predictions.jsonl").open("w", encoding="utf-8") as handle:
        for row in predictions:
            handle.write(json.dumps(row.to_json(), ensure_ascii=False) + "\n")
    (options.out / "metrics.json").write_text(
        json.dumps(metrics, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    write_report(options.out, metrics, predictions)
    return RunResult(metrics=metrics, predictions=predictions)


# --------------------------------------------------------------------------- scoring


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def _label_scores(y_true: Sequence[str], y_pred: Sequence[str]) -> dict[str, Any]:
    return {
        "accuracy": _round(accuracy(y_true, y_pred)),
        "macro_f1": _round(macro_f1(y_true, y_pred, LABELS)),
        "safety_recall": _round(recall_of(y_true, y_pred, SAFETY)),
    }


def _bins_json(confidences: Sequence[float], correct: Sequence[bool]) -> list[dict[str, Any]]:
    return [
        {
            "lower": b.lower,
            "upper": b.upper,
            "count": b.count,
            "mean_confidence": round(b.mean_confidence, 4),
            "accuracy": round(b.accuracy, 4),
        }
        for b in reliability_bins(confidences, correct, ECE_BINS)
    ]


def _group(predictions: Sequence[Prediction], key: str) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[Prediction]] = {}
    for p in predictions:
        names = p.tags if key == "tags" else [p.channel]
        for name in names:
            groups.setdefault(name, []).append(p)
    out: dict[str, dict[str, Any]] = {}
    for name in sorted(groups):
        rows = groups[name]
        coverage, _ = coverage_and_precision([p.accepted for p in rows], [p.correct for p in rows])
        out[name] = {
            "n": len(rows),
            "accuracy": _round(sum(p.correct for p in rows) / len(rows)),
            "coverage": _round(coverage),
        }
    return out


def _llm_confidence(
    labels: Sequence[str | None], probs: Sequence[dict[str, float] | None]
) -> list[tuple[float, int]]:
    """(probability of the label the LLM gave, row index) for rows that have one."""
    return [
        (p[label], i)
        for i, (label, p) in enumerate(zip(labels, probs, strict=True))
        if label is not None and p is not None
    ]


def summarize(predictions: Sequence[Prediction], baseline_prompt: str | None = None) -> dict[str, Any]:
    """Every headline number of metrics.json, from the recorded predictions alone."""
    y_true = [p.label for p in predictions]
    y_final = [p.category or ERROR_LABEL for p in predictions]
    y_llm = [p.llm_label or ERROR_LABEL for p in predictions]
    scores = _label_scores(y_true, y_final)

    llm_conf = _llm_confidence([p.llm_label for p in predictions], [p.probabilities for p in predictions])
    llm_c = [c for c, _ in llm_conf]
    llm_ok = [predictions[i].llm_correct for _, i in llm_conf]
    final_rows = [p for p in predictions if p.confidence is not None]
    final_c = [float(p.confidence or 0.0) for p in final_rows]
    final_ok = [p.correct for p in final_rows]
    coverage, accepted_precision = coverage_and_precision(
        [p.accepted for p in predictions], [p.correct for p in predictions]
    )
    latencies = [p.latency_ms for p in predictions]
    n_safety = sum(p.label == SAFETY for p in predictions)
    metrics: dict[str, Any] = {
        "n": len(predictions),
        "errors": sum(p.error is not None for p in predictions),
        **scores,
        "per_class": {k: v.as_dict() for k, v in per_class_scores(y_true, y_final, LABELS).items()},
        "safety_missed_ids": [p.id for p in predictions if p.label == SAFETY and p.category != SAFETY],
        # The dangerous miss: a true safety message sent to an automated non-safety route.
        "safety_auto_routed_elsewhere_ids": [
            p.id
            for p in predictions
            if p.label == SAFETY and p.accepted and p.route != Route.safety_compliance.value
        ],
        # Messages that try to instruct the classifier and were still auto-routed to a wrong queue.
        "injection_auto_routed_wrongly_ids": [
            p.id for p in predictions if "injection" in p.tags and p.accepted and not p.correct
        ],
        "injection_detected": sum(bool(p.injection_signals) for p in predictions if "injection" in p.tags),
        "injection_rows": sum("injection" in p.tags for p in predictions),
        "injection_false_flags": sum(
            bool(p.injection_signals) for p in predictions if "injection" not in p.tags
        ),
        "llm_only": _label_scores(y_true, y_llm),
        "guard_raises": sum(p.guard_raised for p in predictions),
        # The guard alone: safety messages it raises, whatever the model said.
        "guard_safety_recall": _round(
            sum(p.guard_raised for p in predictions if p.label == SAFETY) / n_safety if n_safety else None
        ),
        "guard_suppressed_needs_human": sum(p.guard_suppressed_needs_human for p in predictions),
        "guard_false_raises": sum(p.guard_raised and p.label != SAFETY for p in predictions),
        # Safety messages the LLM missed and the guard caught: what the guard adds.
        "guard_rescues": sum(
            p.guard_raised and p.label == SAFETY and p.llm_label != SAFETY for p in predictions
        ),
        "ece": _round(expected_calibration_error(llm_c, llm_ok, ECE_BINS)),
        "ece_final": _round(expected_calibration_error(final_c, final_ok, ECE_BINS)),
        "reliability": {
            "llm": _bins_json(llm_c, llm_ok),
            "final": _bins_json(final_c, final_ok),
        },
        "coverage": _round(coverage),
        "accepted_precision": _round(accepted_precision),
        "routes": {r.value: sum(p.route == r.value for p in predictions) for r in Route},
        "latency_ms": latency_summary(latencies),
        "llm_latency_ms": latency_summary(
            [p.llm_latency_ms for p in predictions if p.llm_latency_ms is not None]
        ),
        "by_tag": _group(predictions, "tags"),
        "by_channel": _group(predictions, "channel"),
        "confusion": confusion_matrix(y_true, y_final, LABELS),
        "confusion_llm": confusion_matrix(y_true, y_llm, LABELS),
        "baseline": None,
        "latency_p50_ratio": None,
    }
    if baseline_prompt is not None:
        metrics["baseline"] = summarize_baseline(predictions, baseline_prompt)
        base_p50 = metrics["baseline"]["latency_ms"]["p50"]
        prod_p50 = metrics["latency_ms"]["p50"]
        if base_p50 and prod_p50 is not None:
            metrics["latency_p50_ratio"] = round(prod_p50 / base_p50, 3)
    return metrics


def summarize_baseline(predictions: Sequence[Prediction], prompt_version: str) -> dict[str, Any]:
    rows = [(p, p.baseline) for p in predictions if p.baseline is not None]
    y_true = [p.label for p, _ in rows]
    y_base = [b.label or ERROR_LABEL for _, b in rows]
    conf = _llm_confidence([b.label for _, b in rows], [b.probabilities for _, b in rows])
    confidences = [c for c, _ in conf]
    correct = [rows[i][1].label == rows[i][0].label for _, i in conf]
    return {
        "prompt_version": prompt_version,
        "n": len(rows),
        "errors": sum(b.error is not None for _, b in rows),
        **_label_scores(y_true, y_base),
        "per_class": {k: v.as_dict() for k, v in per_class_scores(y_true, y_base, LABELS).items()},
        "safety_missed_ids": [p.id for p, b in rows if p.label == SAFETY and b.label != SAFETY],
        "ece": _round(expected_calibration_error(confidences, correct, ECE_BINS)),
        "reliability": _bins_json(confidences, correct),
        "latency_ms": latency_summary([b.latency_ms for _, b in rows]),
        "confusion": confusion_matrix(y_true, y_base, LABELS),
    }


def recorded_outcome(p: Prediction, thresholds: AcceptanceThresholds) -> ClassificationOutcome | None:
    """The classification activity's result as recorded in a prediction row, for replaying the
    policy; None for a row whose LLM call failed (that message goes to human triage)."""
    if p.error is not None or p.probabilities is None or p.llm_label is None:
        return None
    return ClassificationOutcome(
        classification=ClassificationResult(
            label=Category(p.llm_label),
            probabilities=LabelProbabilities(**p.probabilities),
            label_mass=min(1.0, p.label_mass) if p.label_mass is not None else 1.0,
            backend="replay",
            model="replay",
            prompt_version=p.prompt_version,
            latency_ms=p.llm_latency_ms or 0.0,
        ),
        guard=GuardResult(
            raise_to_safety=p.guard_raised,
            suppressed_needs_human=p.guard_suppressed_needs_human,
            findings=[
                GuardFinding(signal=f.get("signal", ""), language=f.get("language", ""), evidence="")
                for f in p.guard_findings
            ],
        ),
        guard_version=p.guard_version or "unknown",
        thresholds=thresholds,
        injection_signals=list(p.injection_signals),
    )
