"""`python -m eval pii`: recall of the PII redactor per entity type, and what it wrongly removes.

Each corpus row (eval/data/pii-corpus.jsonl) carries the seeded personal data (`pii`: type,
exact value, offsets) and the values a service workflow needs (`keep`: drug and product
names, order numbers, doses, dates). A seeded value counts as caught only if no part of it
survives: none of its words or digit groups is left in the redacted text (a word that also
occurs outside the seeded values, e.g. "12" of an address next to "12 mg", may stay as often
as it occurs there). A keep value is a false positive when it is not in the output verbatim.
Both splits are reported; rules are tuned on dev only.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.redaction import redact

SPLITS = ("dev", "test", "all")
_PART = re.compile(r"\w+")


@dataclass(frozen=True)
class SeededValue:
    type: str
    value: str
    start: int
    end: int
    form: str | None = None


@dataclass(frozen=True)
class CorpusRow:
    id: str
    split: str
    channel: str
    language: str
    text: str
    pii: list[SeededValue]
    keep: list[SeededValue]
    tags: list[str] = field(default_factory=list)


class CorpusError(ValueError):
    """The corpus file is not what the measurement needs."""


def _values(raw: Any, row_id: str, key: str, text: str) -> list[SeededValue]:
    values = []
    for item in raw or []:
        value = SeededValue(item["type"], item["value"], item["start"], item["end"], item.get("form"))
        if text[value.start : value.end] != value.value:
            raise CorpusError(f"{row_id}: {key} value {value.value!r} is not at {value.start}:{value.end}")
        values.append(value)
    return values


def load_corpus(path: Path) -> list[CorpusRow]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            text = raw["text"]
            rows.append(
                CorpusRow(
                    id=raw["id"],
                    split=raw["split"],
                    channel=raw["channel"],
                    language=raw["language"],
                    text=text,
                    pii=_values(raw.get("pii"), raw["id"], "pii", text),
                    keep=_values(raw.get("keep"), raw["id"], "keep", text),
                    tags=list(raw.get("tags", [])),
                )
            )
        except (KeyError, TypeError, json.JSONDecodeError) as exc:
            raise CorpusError(f"{path}:{number}: {exc}") from exc
    if not rows:
        raise CorpusError(f"{path}: no rows")
    return rows


def _parts(text: str) -> list[str]:
    return [part.casefold() for part in _PART.findall(text) if len(part) > 1 or part.isdigit()]


def surviving_parts(row: CorpusRow, seeded: SeededValue, redacted: str) -> list[str]:
    """Words or digit groups of `seeded` still in the output beyond their occurrences elsewhere."""
    outside = list(row.text)
    for value in row.pii:
        outside[value.start : value.end] = " " * (value.end - value.start)
    allowed = Counter(_parts("".join(outside)))
    present = Counter(_parts(redacted))
    return [part for part in dict.fromkeys(_parts(seeded.value)) if present[part] > allowed[part]]


@dataclass
class _Tally:
    caught: int = 0
    total: int = 0

    def add(self, ok: bool) -> None:
        self.total += 1
        self.caught += int(ok)

    def as_dict(self) -> dict[str, Any]:
        rate = round(self.caught / self.total, 4) if self.total else None
        return {"caught": self.caught, "total": self.total, "recall": rate}


def _group(tallies: dict[str, _Tally]) -> dict[str, Any]:
    return {key: tallies[key].as_dict() for key in sorted(tallies)}


def score(rows: Iterable[CorpusRow]) -> dict[str, Any]:
    """Recall per type/name form/language/channel, false positives on keep values, and misses."""
    overall = _Tally()
    by_type: dict[str, _Tally] = defaultdict(_Tally)
    by_form: dict[str, _Tally] = defaultdict(_Tally)
    by_language: dict[str, _Tally] = defaultdict(_Tally)
    by_channel: dict[str, _Tally] = defaultdict(_Tally)
    kept_by_type: dict[str, _Tally] = defaultdict(_Tally)
    misses: list[dict[str, Any]] = []
    false_positives: list[dict[str, Any]] = []
    caught_values: list[dict[str, str]] = []
    negatives = _Tally()
    n = 0
    for row in rows:
        n += 1
        redacted = redact(row.text).text
        for seeded in row.pii:
            left = surviving_parts(row, seeded, redacted)
            ok = not left
            for tally in (overall, by_type[seeded.type], by_language[row.language], by_channel[row.channel]):
                tally.add(ok)
            if seeded.type == "NAME":
                by_form[seeded.form or "unspecified"].add(ok)
            entry = {"id": row.id, "type": seeded.type, "value": seeded.value}
            if ok:
                caught_values.append(entry)
            else:
                misses.append({**entry, "form": seeded.form, "survived": left, "output": redacted})
        for keep in row.keep:
            survived = keep.value in redacted
            kept_by_type[keep.type].add(survived)
            if not survived:
                false_positives.append(
                    {"id": row.id, "type": keep.type, "value": keep.value, "output": redacted}
                )
        if not row.pii:
            negatives.add(redacted == row.text)
    removed = sum(t.total - t.caught for t in kept_by_type.values())
    kept_total = sum(t.total for t in kept_by_type.values())
    return {
        "messages": n,
        "seeded_values": overall.total,
        "recall": overall.as_dict()["recall"],
        "recall_by_type": _group(by_type),
        "name_recall_by_form": _group(by_form),
        "recall_by_language": _group(by_language),
        "recall_by_channel": _group(by_channel),
        "keep_values": kept_total,
        "keep_values_removed": removed,
        "false_positive_rate": round(removed / kept_total, 4) if kept_total else None,
        "keep_survival_by_type": _group(kept_by_type),
        "negative_messages": negatives.total,
        "negative_messages_unchanged": negatives.caught,
        "misses": misses,
        "false_positives": false_positives,
        "caught": caught_values,
    }


def _table(title: str, groups: dict[str, Any], label: str = "recall") -> list[str]:
    lines = [f"### {title}", "", f"| | caught / total | {label} |", "|---|---:|---:|"]
    lines += [f"| {key} | {g['caught']} / {g['total']} | {g['recall']} |" for key, g in groups.items()]
    return [*lines, ""]


def render_markdown(results: dict[str, dict[str, Any]], dataset: str) -> str:
    lines = [
        "# PII redaction: measured",
        "",
        f"Corpus `{dataset}`; `python -m eval pii`. A seeded value is caught only if no part of it",
        "survives. Rules were tuned on **dev** only; **test** was scored after tuning.",
        "",
        "| split | messages | seeded values | recall | keep values removed (FP) | negatives unchanged |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for split, r in results.items():
        lines.append(
            f"| {split} | {r['messages']} | {r['seeded_values']} | {r['recall']} | "
            f"{r['keep_values_removed']} / {r['keep_values']} ({r['false_positive_rate']}) | "
            f"{r['negative_messages_unchanged']} / {r['negative_messages']} |"
        )
    lines.append("")
    for split, r in results.items():
        if split == "all":
            continue
        lines += [f"## {split}", ""]
        lines += _table("Recall by entity type", r["recall_by_type"])
        lines += _table("Names by position", r["name_recall_by_form"])
        lines += _table("Recall by language", r["recall_by_language"])
        lines += _table("Recall by channel", r["recall_by_channel"])
        lines += _table("Must-keep values that survive", r["keep_survival_by_type"], "kept")
        if r["misses"]:
            lines += ["### Missed values", "", "| id | type | form | survived |", "|---|---|---|---|"]
            lines += [
                f"| {m['id']} | {m['type']} | {m['form'] or ''} | {' '.join(m['survived'])} |"
                for m in r["misses"]
            ]
            lines.append("")
        if r["false_positives"]:
            lines += ["### Must-keep values removed", "", "| id | type | value |", "|---|---|---|"]
            lines += [f"| {f['id']} | {f['type']} | {f['value']} |" for f in r["false_positives"]]
            lines.append("")
    return "\n".join(lines)


def run_pii(dataset: Path, out: Path) -> dict[str, dict[str, Any]]:
    """Score every split, write metrics.json and report.md to `out`, return the metrics."""
    rows = load_corpus(dataset)
    results = {
        "dev": score(r for r in rows if r.split == "dev"),
        "test": score(r for r in rows if r.split == "test"),
        "all": score(rows),
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(
        json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    (out / "report.md").write_text(render_markdown(results, str(dataset)) + "\n", encoding="utf-8")
    return results
