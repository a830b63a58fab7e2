"""Human-readable outputs of a run: report.md, confusion.png, reliability.png, and `compare`.

Everything is rendered from metrics.json and the prediction rows, so a report can be rebuilt
from a finished run without touching the model.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")  # no display on CI or the eval machine

import matplotlib.pyplot as plt

if TYPE_CHECKING:
    from eval.runner import Prediction

# (label, how to read it from metrics.json, higher is better)
HEADLINE: tuple[tuple[str, tuple[str, ...], bool], ...] = (
    ("n", ("n",), True),
    ("accuracy", ("accuracy",), True),
    ("macro_f1", ("macro_f1",), True),
    ("safety_recall", ("safety_recall",), True),
    ("ece", ("ece",), False),
    ("coverage", ("coverage",), True),
    ("accepted_precision", ("accepted_precision",), True),
    ("latency p50 (ms)", ("latency_ms", "p50"), False),
    ("latency p95 (ms)", ("latency_ms", "p95"), False),
)


def dig(metrics: dict[str, Any], path: Sequence[str]) -> Any:
    value: Any = metrics
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(fmt(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _probabilities_text(probabilities: dict[str, float] | None) -> str:
    if not probabilities:
        return "n/a"
    short = {"informational": "info", "service_action": "service", "safety_compliance": "safety"}
    return " ".join(f"{short.get(k, k)}={v:.2f}" for k, v in probabilities.items())


def render_markdown(metrics: dict[str, Any], predictions: Sequence[Prediction]) -> str:
    m = metrics
    out = [f"# Evaluation run: {m.get('dataset')}\n\n"]
    out.append(
        f"backend `{m.get('backend')}` · model `{m.get('model')}` · prompt "
        f"`{m.get('prompt_version')}` · policy `{m.get('policy_version')}` · guard "
        f"`{m.get('guard_version')}` · dataset sha256 `{str(m.get('dataset_sha256'))[:12]}` · "
        f"started {m.get('started_at')} · {m.get('duration_s')} s\n\n"
    )
    out.append("## Headline\n\n")
    llm = m.get("llm_only") or {}
    base = m.get("baseline") or {}
    header = ["metric", "final (LLM + guard + policy)", "LLM label only"]
    if base:
        header.append(f"baseline `{base.get('prompt_version')}`")
    rows: list[list[Any]] = []
    for name, key in (
        ("accuracy", "accuracy"),
        ("macro_f1", "macro_f1"),
        ("safety_recall", "safety_recall"),
    ):
        row = [name, m.get(key), llm.get(key)]
        if base:
            row.append(base.get(key))
        rows.append(row)
    ece_row = ["ece (top probability)", m.get("ece_final"), m.get("ece")]
    lat_row = ["latency p50 / p95 (ms)", _latency(m.get("latency_ms")), _latency(m.get("llm_latency_ms"))]
    if base:
        ece_row.append(base.get("ece"))
        lat_row.append(_latency(base.get("latency_ms")))
    rows += [ece_row, lat_row]
    out.append(table(header, rows))
    out.append(
        f"\nn = {m.get('n')} (errors: {m.get('errors')}) · coverage (auto-routed) "
        f"{fmt(m.get('coverage'))} · accepted precision {fmt(m.get('accepted_precision'))} · "
        f"guard raises {m.get('guard_raises')} (false: {m.get('guard_false_raises')}, "
        f"rescued safety: {m.get('guard_rescues')})"
    )
    if m.get("latency_p50_ratio") is not None:
        out.append(f" · latency p50 ratio production/baseline {fmt(m.get('latency_p50_ratio'), 2)}")
    out.append("\n\nThe final ECE uses the model's probability for the final category; the ")
    out.append("LLM-only column is the raw label's top probability. Production latency is ")
    out.append("LLM call + guard + policy; the LLM-only latency is the call alone.\n\n")

    out.append("## Safety\n\n")
    missed = m.get("safety_missed_ids") or []
    auto = m.get("safety_auto_routed_elsewhere_ids") or []
    out.append(f"- true safety messages not categorised safety: {len(missed)} {_ids(missed)}\n")
    out.append(f"- true safety messages auto-routed to a non-safety queue: {len(auto)} {_ids(auto)}\n\n")

    out.append("## Per class (final category)\n\n")
    per_class = m.get("per_class") or {}
    out.append(
        table(
            ["label", "precision", "recall", "f1", "support"],
            [[k, v["precision"], v["recall"], v["f1"], v["support"]] for k, v in per_class.items()],
        )
    )
    out.append("\n## Routes\n\n")
    out.append(table(["route", "n"], list((m.get("routes") or {}).items())))
    for title, key in (("By channel", "by_channel"), ("By tag", "by_tag")):
        groups = m.get(key) or {}
        out.append(f"\n## {title}\n\n")
        if groups:
            out.append(
                table(
                    ["name", "n", "accuracy", "coverage"],
                    [[k, v["n"], v["accuracy"], v.get("coverage")] for k, v in groups.items()],
                )
            )
        else:
            out.append("(none)\n")
    out.append("\n## Confusion (rows: true label, columns: final category)\n\n")
    out.append(_confusion_table(m.get("confusion") or {}))
    out.append("\n## Misses\n\n")
    misses = [p for p in predictions if not p.correct]
    if misses:
        out.append(
            table(
                ["id", "label", "pred", "llm", "route", "probabilities", "guard", "tags"],
                [
                    [
                        p.id,
                        p.label,
                        p.category or f"error: {p.error}",
                        p.llm_label,
                        p.route,
                        _probabilities_text(p.probabilities),
                        ",".join(p.guard_signals) if p.guard_raised else "-",
                        ",".join(p.tags) or "-",
                    ]
                    for p in misses
                ],
            )
        )
    else:
        out.append("(none)\n")
    return "".join(out)


def _latency(summary: Any) -> str:
    if not isinstance(summary, dict):
        return "n/a"
    return f"{fmt(summary.get('p50'), 1)} / {fmt(summary.get('p95'), 1)}"


def _ids(ids: Sequence[str], limit: int = 30) -> str:
    if not ids:
        return ""
    shown = ", ".join(ids[:limit])
    return f"({shown}{', ...' if len(ids) > limit else ''})"


def _confusion_table(matrix: dict[str, dict[str, int]]) -> str:
    if not matrix:
        return "(empty)\n"
    columns = list(next(iter(matrix.values())).keys())
    return table(["true \\ pred", *columns], [[t, *row.values()] for t, row in matrix.items()])


def plot_confusion(matrix: dict[str, dict[str, int]], path: Path) -> None:
    rows = list(matrix.keys())
    columns = list(next(iter(matrix.values())).keys()) if matrix else []
    values = [[matrix[r][c] for c in columns] for r in rows]
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    if rows and columns:
        image = ax.imshow(values, cmap="Blues")
        fig.colorbar(image, ax=ax)
        peak = max(max(row) for row in values) or 1
        for i, row in enumerate(values):
            for j, count in enumerate(row):
                colour = "white" if count > peak / 2 else "black"
                ax.text(j, i, str(count), ha="center", va="center", color=colour)
    ax.set_xticks(range(len(columns)), columns, rotation=20, ha="right")
    ax.set_yticks(range(len(rows)), rows)
    ax.set_xlabel("final category")
    ax.set_ylabel("true label")
    ax.set_title("Confusion matrix")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_reliability(metrics: dict[str, Any], path: Path) -> None:
    """Reliability diagram: bin accuracy against bin mean confidence, plus bin counts."""
    series: list[tuple[str, list[dict[str, Any]]]] = []
    reliability = metrics.get("reliability") or {}
    series.append((f"LLM top probability (ECE {fmt(metrics.get('ece'))})", reliability.get("llm") or []))
    series.append((f"final category (ECE {fmt(metrics.get('ece_final'))})", reliability.get("final") or []))
    base = metrics.get("baseline") or {}
    if base.get("reliability"):
        name = f"baseline {base.get('prompt_version')} (ECE {fmt(base.get('ece'))})"
        series.append((name, base["reliability"]))
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(6, 6.5), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    top.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="perfect calibration")
    width = 0.1 / (len(series) + 1)
    for index, (name, bins) in enumerate(series):
        filled = [b for b in bins if b["count"]]
        top.plot(
            [b["mean_confidence"] for b in filled],
            [b["accuracy"] for b in filled],
            marker="o",
            label=name,
        )
        bottom.bar(
            [b["lower"] + width * (index + 0.5) for b in bins],
            [b["count"] for b in bins],
            width=width,
            align="edge",
            label=name,
        )
    top.set_xlim(0, 1)
    top.set_ylim(0, 1.02)
    top.set_ylabel("accuracy in bin")
    top.set_title("Reliability (10 equal-width bins)")
    top.legend(fontsize=7, loc="upper left")
    bottom.set_xlabel("confidence")
    bottom.set_ylabel("messages")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(out: Path, metrics: dict[str, Any], predictions: Sequence[Prediction]) -> None:
    (out / "report.md").write_text(render_markdown(metrics, predictions), encoding="utf-8")
    plot_confusion(metrics.get("confusion") or {}, out / "confusion.png")
    plot_reliability(metrics, out / "reliability.png")


def render_comparison(a: dict[str, Any], b: dict[str, Any], name_a: str, name_b: str) -> str:
    """Side-by-side headline metrics of two runs; delta = B - A."""
    rows: list[list[str]] = [["metric", name_a, name_b, "delta (B - A)", ""]]
    for label, path, higher_is_better in HEADLINE:
        va, vb = dig(a, path), dig(b, path)
        delta = ""
        verdict = ""
        if isinstance(va, int | float) and isinstance(vb, int | float):
            diff = vb - va
            delta = f"{diff:+.4f}" if isinstance(diff, float) else f"{diff:+d}"
            if diff and label != "n":
                verdict = "better" if (diff > 0) == higher_is_better else "worse"
        rows.append([label, fmt(va, 4), fmt(vb, 4), delta, verdict])
    for label, key in (
        ("backend", "backend"),
        ("model", "model"),
        ("prompt", "prompt_version"),
        ("policy", "policy_version"),
        ("dataset sha256", "dataset_sha256"),
    ):
        va, vb = a.get(key), b.get(key)
        if key == "dataset_sha256":
            va, vb = str(va)[:12], str(vb)[:12]
        rows.append([label, fmt(va), fmt(vb), "" if va == vb else "differs", ""])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for index, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    if a.get("dataset_sha256") != b.get("dataset_sha256"):
        lines.append("warning: the two runs used different data sets; deltas are not comparable")
    return "\n".join(lines) + "\n"
