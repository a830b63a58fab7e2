"""Fit the acceptance thresholds to a recorded run (`python -m eval calibrate`).

The search re-simulates `classifier.policy.decide` on the probabilities and guard results in
predictions.jsonl, so calibrating never calls the model. It maximises coverage (share routed
automatically) subject to accepted precision >= target and to no true safety message ever being
auto-routed to a non-safety queue; ties go to higher precision, then to simpler thresholds
(fewer decimals), then to the more conservative values. The chosen thresholds are then checked
against the real `decide` function, so the fast simulation can never drift from the worker.

Grid (in hundredths, so values are exact and the search is reproducible): a coarse pass, then a
1/100 refinement around the coarse optimum. Per-label options are pruned to their Pareto front
(more accepted, no more errors), which keeps the pure-Python search to a few seconds.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from classifier.policy import decide, load_thresholds
from core.models import (
    AcceptanceThresholds,
    Category,
    LabelProbabilities,
    Route,
)
from eval.runner import Prediction, recorded_outcome

LABEL_ORDER: tuple[Category, ...] = (
    Category.informational,
    Category.service_action,
    Category.safety_compliance,
)
SAFETY = Category.safety_compliance.value
DEFAULT_TARGET = 0.97
TRADE_OFF_TARGETS: tuple[float, ...] = (0.90, 0.95, 0.97, 0.99)

# Coarse grid, in hundredths.
COARSE_MIN_PROBABILITY = (*range(30, 100, 5), 99)
COARSE_MIN_GAP = tuple(range(0, 81, 5))
# The safety floor is capped by design, not by data: above it a message is never auto-routed
# elsewhere, and "a plausible safety case" must stay a low bar even when dev would allow more.
MAX_SAFETY_FLOOR = 20
COARSE_SAFETY_FLOOR = (2, 5, 10, 15, 20)
COARSE_SAFETY_ACCEPT = (*range(30, 100, 5), 99)
REFINE_RADIUS = 5
REFINE_ROUNDS = 3
LIMITS = {
    "min_probability": (30, 99),
    "min_gap": (0, 80),
    "safety_floor": (2, MAX_SAFETY_FLOOR),
    "safety_accept": (2, 99),
}


class CalibrationError(RuntimeError):
    """No threshold set meets the constraints, or the simulation disagrees with `decide`."""


@dataclass(frozen=True)
class SimRow:
    """What `decide` looks at, precomputed once per message."""

    id: str
    label: str
    error: bool
    guard: bool
    injection: bool
    # A suppressed guard finding sends the message to a human like an injection does.
    suppressed_needs_human: bool
    p_safety: float
    top_label: str
    top_p: float
    gap: float
    prediction: Prediction


@dataclass(frozen=True)
class Candidate:
    """A threshold set in hundredths: min_probability in LABEL_ORDER, then the scalars."""

    min_probability: tuple[int, int, int]
    min_gap: int
    safety_floor: int
    safety_accept: int

    def values(self) -> tuple[int, ...]:
        return (*self.min_probability, self.min_gap, self.safety_floor, self.safety_accept)

    def to_thresholds(self, version: str) -> AcceptanceThresholds:
        return AcceptanceThresholds(
            min_probability={c: v / 100 for c, v in zip(LABEL_ORDER, self.min_probability, strict=True)},
            min_gap=self.min_gap / 100,
            safety_floor=self.safety_floor / 100,
            safety_accept=self.safety_accept / 100,
            version=version,
        )


@dataclass(frozen=True)
class Choice:
    candidate: Candidate
    n: int
    accepted: int
    wrong: int

    @property
    def coverage(self) -> float:
        return self.accepted / self.n if self.n else 0.0

    @property
    def precision(self) -> float | None:
        return (self.accepted - self.wrong) / self.accepted if self.accepted else None


def _decimals(value: int) -> int:
    """Decimal places of value/100: 50 -> 1 (0.5), 55 -> 2, 0 -> 0."""
    if value % 100 == 0:
        return 0
    return 1 if value % 10 == 0 else 2


# --------------------------------------------------------------------------- inputs


def sim_row(p: Prediction) -> SimRow:
    if p.error is not None or p.probabilities is None:
        return SimRow(p.id, p.label, True, False, False, False, 0.0, "", 0.0, 0.0, p)
    probabilities = LabelProbabilities(**p.probabilities)
    # The same ranking (and tie order) as decide().
    ranked = probabilities.ranked()
    (top_label, top_p), (_, second_p) = ranked[0], ranked[1]
    return SimRow(
        id=p.id,
        label=p.label,
        error=False,
        guard=p.guard_raised,
        injection=bool(p.injection_signals),
        suppressed_needs_human=p.guard_suppressed_needs_human,
        p_safety=probabilities.of(Category.safety_compliance),
        top_label=top_label.value,
        top_p=top_p,
        gap=top_p - second_p,
        prediction=p,
    )


def load_predictions(path: Path) -> list[Prediction]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                rows.append(Prediction.from_json(json.loads(line)))
            except (ValueError, TypeError) as exc:
                raise CalibrationError(f"{path}:{number}: not a prediction row ({exc})") from None
    return rows


# --------------------------------------------------------------------------- search


# (accepted, wrong, decimals, -sum of min_probability, chosen values in LABEL_ORDER)
_LabelCombo = tuple[int, int, int, int, tuple[int, ...]]


def _pareto(options: Iterable[_LabelCombo]) -> list[_LabelCombo]:
    """Keep options no other beats on both counts (more accepted, no more wrong).

    For equal (accepted, wrong) the simplest, then most conservative, option stays.
    """
    best: dict[tuple[int, int], _LabelCombo] = {}
    for option in options:
        key = (option[0], option[1])
        if key not in best or option[2:4] < best[key][2:4]:
            best[key] = option
    front: list[_LabelCombo] = []
    min_wrong: int | None = None
    for option in sorted(best.values(), key=lambda o: (-o[0], o[1])):
        if min_wrong is None or option[1] < min_wrong:
            front.append(option)
            min_wrong = option[1]
    return front


def _label_options(rows: Sequence[SimRow], label: str, gap: int, grid: Sequence[int]) -> list[_LabelCombo]:
    """Options of min_probability[label] for rows that reach rule 4 with this top label."""
    eligible = [r for r in rows if r.top_label == label and r.gap >= gap / 100]
    options: list[_LabelCombo] = []
    for value in grid:
        passing = [r for r in eligible if r.top_p >= value / 100]
        if label != SAFETY and any(r.label == SAFETY for r in passing):
            continue  # would auto-route a true safety message elsewhere
        wrong = sum(r.label != label for r in passing)
        options.append((len(passing), wrong, _decimals(value), -value, (value,)))
    return _pareto(options)


def _combine(per_label: Sequence[list[_LabelCombo]]) -> list[_LabelCombo]:
    combos = (
        (
            sum(o[0] for o in parts),
            sum(o[1] for o in parts),
            sum(o[2] for o in parts),
            sum(o[3] for o in parts),
            tuple(v for o in parts for v in o[4]),
        )
        for parts in itertools.product(*per_label)
    )
    return _pareto(combos)


def _better(a: tuple[Any, ...], b: tuple[Any, ...] | None) -> bool:
    return b is None or a > b


def search(
    rows: Sequence[SimRow],
    targets: Sequence[float],
    min_probability_grid: Sequence[Sequence[int]],
    gap_grid: Sequence[int],
    floor_grid: Sequence[int],
    accept_grid: Sequence[int],
) -> dict[float, Choice | None]:
    """Best candidate per target precision over the given grid (min_probability per label)."""
    n = len(rows)
    guard_rows = [r for r in rows if r.guard and not r.error]
    fixed_accepted = len(guard_rows)
    fixed_wrong = sum(r.label != SAFETY for r in guard_rows)
    free = [r for r in rows if not r.error and not r.guard]
    best_key: dict[float, tuple[Any, ...] | None] = dict.fromkeys(targets)
    best: dict[float, Choice | None] = dict.fromkeys(targets)
    for floor in floor_grid:
        # Below the floor, a message that instructs the classifier still goes to triage.
        below = [
            r for r in free if r.p_safety < floor / 100 and not r.injection and not r.suppressed_needs_human
        ]
        accepts = []
        for accept in accept_grid:
            if accept < floor:
                continue
            auto = [r for r in free if r.p_safety >= accept / 100]
            accepts.append((accept, len(auto), sum(r.label != SAFETY for r in auto)))
        for gap in gap_grid:
            per_label = [
                _label_options(below, c.value, gap, grid)
                for c, grid in zip(LABEL_ORDER, min_probability_grid, strict=True)
            ]
            for accepted_l, wrong_l, decimals_l, neg_sum, values in _combine(per_label):
                for accept, accepted_a, wrong_a in accepts:
                    accepted = fixed_accepted + accepted_a + accepted_l
                    wrong = fixed_wrong + wrong_a + wrong_l
                    precision = (accepted - wrong) / accepted if accepted else 1.0
                    decimals = decimals_l + _decimals(gap) + _decimals(floor) + _decimals(accept)
                    # coverage, precision, simpler, then conservative (higher minima and
                    # gap, lower floor, higher accept).
                    key = (accepted, precision, -decimals, -neg_sum, gap, -floor, accept)
                    for target in targets:
                        if precision + 1e-12 < target:
                            continue
                        if _better(key, best_key[target]):
                            best_key[target] = key
                            candidate = Candidate((values[0], values[1], values[2]), gap, floor, accept)
                            best[target] = Choice(candidate, n, accepted, wrong)
    return best


def _around(value: int, name: str) -> list[int]:
    low, high = LIMITS[name]
    return list(range(max(low, value - REFINE_RADIUS), min(high, value + REFINE_RADIUS) + 1))


def calibrate(rows: Sequence[SimRow], target: float) -> Choice | None:
    """Coarse grid, then 1/100 refinements around the optimum until it stops moving."""
    best = search(
        rows,
        [target],
        [COARSE_MIN_PROBABILITY] * 3,
        COARSE_MIN_GAP,
        COARSE_SAFETY_FLOOR,
        COARSE_SAFETY_ACCEPT,
    )[target]
    for _ in range(REFINE_ROUNDS):
        if best is None:
            return None
        c = best.candidate
        refined = search(
            rows,
            [target],
            [_around(v, "min_probability") for v in c.min_probability],
            _around(c.min_gap, "min_gap"),
            _around(c.safety_floor, "safety_floor"),
            sorted(set(_around(c.safety_accept, "safety_accept")) | set(COARSE_SAFETY_ACCEPT)),
        )[target]
        if refined is None or refined.candidate == c:
            break
        best = refined
    return best


# --------------------------------------------------------------------------- verification


@dataclass(frozen=True)
class PolicyStats:
    n: int
    accepted: int
    correct: int
    safety_auto_elsewhere: list[str]

    @property
    def coverage(self) -> float:
        return self.accepted / self.n if self.n else 0.0

    @property
    def precision(self) -> float | None:
        return self.correct / self.accepted if self.accepted else None


def replay(predictions: Sequence[Prediction], thresholds: AcceptanceThresholds) -> PolicyStats:
    """Route every recorded message with the real `classifier.policy.decide`."""
    now = datetime(2000, 1, 1, tzinfo=timezone.utc)  # decide only stamps it on the steps
    accepted = correct = 0
    unsafe: list[str] = []
    for p in predictions:
        outcome = recorded_outcome(p, thresholds)
        if outcome is None:
            continue  # an LLM failure goes to human triage
        decision = decide(outcome, now)
        if decision.route == Route.human_triage:
            continue
        accepted += 1
        correct += decision.category.value == p.label
        if p.label == SAFETY and decision.route != Route.safety_compliance:
            unsafe.append(p.id)
    return PolicyStats(len(predictions), accepted, correct, unsafe)


def verify(predictions: Sequence[Prediction], choice: Choice, version: str) -> PolicyStats:
    stats = replay(predictions, choice.candidate.to_thresholds(version))
    if stats.safety_auto_elsewhere or (stats.accepted, stats.accepted - stats.correct) != (
        choice.accepted,
        choice.wrong,
    ):
        raise CalibrationError(
            "simulation disagrees with classifier.policy.decide: "
            f"simulated accepted={choice.accepted} wrong={choice.wrong}, decide accepted="
            f"{stats.accepted} wrong={stats.accepted - stats.correct}, "
            f"unsafe={stats.safety_auto_elsewhere}"
        )
    return stats


# --------------------------------------------------------------------------- outputs


def thresholds_json(thresholds: AcceptanceThresholds) -> str:
    """The exact layout of config/acceptance_policy.json."""
    minima = ", ".join(
        f"{json.dumps(c.value)}: {json.dumps(thresholds.min_probability[c])}" for c in LABEL_ORDER
    )
    return (
        "{\n"
        f'  "version": {json.dumps(thresholds.version)},\n'
        f'  "min_probability": {{{minima}}},\n'
        f'  "min_gap": {json.dumps(thresholds.min_gap)},\n'
        f'  "safety_floor": {json.dumps(thresholds.safety_floor)},\n'
        f'  "safety_accept": {json.dumps(thresholds.safety_accept)}\n'
        "}\n"
    )


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _threshold_cells(t: AcceptanceThresholds) -> list[str]:
    minima = "/".join(f"{t.min_probability[c]:.2f}" for c in LABEL_ORDER)
    return [minima, f"{t.min_gap:.2f}", f"{t.safety_floor:.2f}", f"{t.safety_accept:.2f}"]


def trade_off_table(rows: list[tuple[str, PolicyStats | None, AcceptanceThresholds | None]]) -> str:
    header = [
        "target precision",
        "coverage",
        "accepted precision",
        "min_probability info/service/safety",
        "min_gap",
        "safety_floor",
        "safety_accept",
        "safety auto-routed elsewhere",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, stats, thresholds in rows:
        if stats is None or thresholds is None:
            cells = [name, "infeasible", "", "", "", "", "", ""]
        else:
            cells = [
                name,
                _fmt(stats.coverage),
                _fmt(stats.precision),
                *_threshold_cells(thresholds),
                str(len(stats.safety_auto_elsewhere)),
            ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class CalibrationReport:
    thresholds: AcceptanceThresholds | None
    stats: PolicyStats | None
    markdown: str


def run_calibration(
    predictions_path: Path,
    out: Path,
    target: float = DEFAULT_TARGET,
    version: str | None = None,
) -> CalibrationReport:
    """Search, verify with `decide`, write the thresholds and DIR/calibration.md."""
    if not 0.0 < target <= 1.0:
        raise CalibrationError(f"target precision must be in (0, 1]: {target}")
    predictions = load_predictions(predictions_path)
    if not predictions:
        raise CalibrationError(f"{predictions_path}: no predictions")
    rows = [sim_row(p) for p in predictions]
    digest = hashlib.sha256(predictions_path.read_bytes()).hexdigest()
    version = version or f"calibrated-p{round(target * 100)}-{digest[:8]}"

    table_rows: list[tuple[str, PolicyStats | None, AcceptanceThresholds | None]] = []
    in_force = _policy_in_force(predictions_path.parent / "metrics.json")
    if in_force is not None:
        table_rows.append((f"in force: {in_force.version}", replay(predictions, in_force), in_force))
    chosen: tuple[AcceptanceThresholds, PolicyStats] | None = None
    for each in sorted(set(TRADE_OFF_TARGETS) | {target}):
        choice = calibrate(rows, each)
        if choice is None:
            table_rows.append((f"{each:.2f}", None, None))
            continue
        thresholds = choice.candidate.to_thresholds(version)
        stats = verify(predictions, choice, version)
        marker = " (chosen)" if each == target else ""
        table_rows.append((f"{each:.2f}{marker}", stats, thresholds))
        if each == target:
            chosen = (thresholds, stats)

    n_safety = sum(p.label == SAFETY for p in predictions)
    lines = [
        "# Calibration of the acceptance policy\n\n",
        f"predictions `{predictions_path}` (sha256 `{digest[:12]}`): {len(predictions)} messages, "
        f"{n_safety} true safety, {sum(p.error is not None for p in predictions)} LLM errors.\n\n",
        "Coverage = share routed without a human; accepted precision = share of those routed to "
        "the right category. Every row keeps all true safety messages on the safety route or in "
        "human triage. Chosen by coverage, then precision, then fewer decimals; checked by "
        "replaying `classifier.policy.decide` on every message.\n\n",
        trade_off_table(table_rows),
    ]
    if chosen is None:
        lines.append(f"\nNo thresholds reach precision {target:.2f}: nothing written.\n")
    else:
        lines.append(f"\nWritten to `{out}` as version `{version}`.\n")
    if len(predictions) < 200:
        lines.append(
            "\nFewer than 200 messages: a precision target is only as good as the sample; "
            "calibrate on a larger run before shipping these thresholds.\n"
        )
    markdown = "".join(lines)
    (predictions_path.parent / "calibration.md").write_text(markdown, encoding="utf-8")
    if chosen is None:
        return CalibrationReport(None, None, markdown)
    thresholds, stats = chosen
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(thresholds_json(thresholds), encoding="utf-8")
    if load_thresholds(out) != thresholds:
        raise CalibrationError(f"{out}: written thresholds do not read back identically")
    return CalibrationReport(thresholds, stats, markdown)


def _policy_in_force(metrics_path: Path) -> AcceptanceThresholds | None:
    if not metrics_path.exists():
        return None
    try:
        raw = json.loads(metrics_path.read_text(encoding="utf-8")).get("policy")
        return AcceptanceThresholds.model_validate(raw) if raw else None
    except ValueError:
        return None
