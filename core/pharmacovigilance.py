"""Deterministic pharmacovigilance rules for an incoming adverse-event report.

A valid individual case safety report needs four minimum criteria (an identifiable patient, an
identifiable reporter, a suspect product and an adverse event); what is missing is what the
safety team must follow up. Seriousness follows the ICH E2A categories plus the special
situations a pharmacy sees (overdose, exposure of a child). The regulatory clock runs from day
zero, the day the company first received the report: 15 calendar days if serious, else 90.

The vocabulary for the eight supported languages is data (`config/seriousness.yaml`, with
examples that the tests check); it is matched on `core.text.fold` text. Runs inside an activity,
never in workflow code, so a change to these rules cannot break the replay of a workflow that is
already running. These rules only pre-fill the report; the human reviewer's decision is what
counts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from core.models import ReportAssessment
from core.text import fold

RULES_FILE = Path(__file__).resolve().parents[1] / "config" / "seriousness.yaml"
CRITERIA = ("identifiable_patient", "identifiable_reporter", "suspect_product", "adverse_event")
# Redaction leaves typed placeholders such as [NAME] or [EMAIL]: they prove someone is identifiable.
_PLACEHOLDER = re.compile(r"\[[A-Z_]+\]")
_SENTENCE = re.compile(r"[^.!?\n]+")


@dataclass(frozen=True)
class _Criterion:
    name: str
    pattern: re.Pattern[str]
    not_when: re.Pattern[str] | None


@dataclass(frozen=True)
class Rules:
    version: str
    serious_due_days: int
    non_serious_due_days: int
    seriousness: tuple[_Criterion, ...]
    minimum: dict[str, re.Pattern[str]]
    examples: tuple[dict[str, Any], ...]


def _any_language(by_language: dict[str, list[str]]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for patterns in by_language.values() for p in patterns))


@lru_cache(maxsize=1)
def load_rules(path: Path = RULES_FILE) -> Rules:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    seriousness = tuple(
        _Criterion(
            name=name,
            pattern=_any_language(block["patterns"]),
            not_when=re.compile("|".join(block["not_when"])) if block.get("not_when") else None,
        )
        for name, block in data["seriousness"].items()
    )
    return Rules(
        version=str(data["version"]),
        serious_due_days=int(data["serious_due_days"]),
        non_serious_due_days=int(data["non_serious_due_days"]),
        seriousness=seriousness,
        minimum={name: _any_language(block) for name, block in data["minimum_criteria"].items()},
        examples=tuple(data.get("examples", [])),
    )


RULES_VERSION = load_rules().version
SERIOUS_DUE_DAYS = load_rules().serious_due_days
NON_SERIOUS_DUE_DAYS = load_rules().non_serious_due_days


def seriousness_of(text: str) -> list[str]:
    """The seriousness criteria found in the text, in the table's order."""
    sentences = [match.group() for match in _SENTENCE.finditer(fold(text))]
    return [
        criterion.name
        for criterion in load_rules().seriousness
        if any(
            criterion.pattern.search(sentence)
            and not (criterion.not_when and criterion.not_when.search(sentence))
            for sentence in sentences
        )
    ]


def regulatory_due_date(day_zero: datetime, serious: bool) -> date:
    """Calendar days from day zero: weekends and holidays do not stop the clock."""
    days = SERIOUS_DUE_DAYS if serious else NON_SERIOUS_DUE_DAYS
    return day_zero.date() + timedelta(days=days)


def assess_report(
    redacted_text: str, received_at: datetime, *, reporter_known: bool = False
) -> ReportAssessment:
    """Minimum criteria present/missing, seriousness signals and the regulatory due date.

    `reporter_known` is true when the channel identifies the sender (a customer account).
    """
    rules = load_rules()
    folded = fold(redacted_text)
    placeholder = bool(_PLACEHOLDER.search(redacted_text))
    found = {
        "identifiable_patient": placeholder or bool(rules.minimum["identifiable_patient"].search(folded)),
        "identifiable_reporter": reporter_known or placeholder,
        "suspect_product": bool(rules.minimum["suspect_product"].search(folded)),
        "adverse_event": bool(rules.minimum["adverse_event"].search(folded)),
    }
    seriousness = seriousness_of(redacted_text)
    serious = bool(seriousness)
    return ReportAssessment(
        criteria_present=[name for name in CRITERIA if found[name]],
        criteria_missing=[name for name in CRITERIA if not found[name]],
        seriousness=seriousness,
        serious=serious,
        day_zero=received_at,
        regulatory_due_date=regulatory_due_date(received_at, serious),
        rules_version=rules.version,
    )
