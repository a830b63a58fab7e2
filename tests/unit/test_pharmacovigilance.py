"""The deterministic pharmacovigilance rules: minimum criteria, seriousness, regulatory clock."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

import pytest
import yaml

from core.pharmacovigilance import RULES_FILE, assess_report, load_rules, seriousness_of

DAY_ZERO = datetime(2026, 11, 25, 23, 30, tzinfo=timezone.utc)


def test_serious_report_with_all_criteria_is_due_in_15_calendar_days() -> None:
    assessment = assess_report(
        "My mother was admitted to hospital after taking the new tablets, she had a rash",
        DAY_ZERO,
        reporter_known=True,
    )
    assert assessment.criteria_missing == []
    assert assessment.seriousness == ["hospitalisation"]
    assert assessment.serious
    assert assessment.regulatory_due_date == date(2026, 12, 10)


def test_non_serious_report_is_due_in_90_days_and_lists_what_is_missing() -> None:
    assessment = assess_report("the tablets gave a headache", DAY_ZERO)
    assert not assessment.serious
    assert assessment.regulatory_due_date == date(2027, 2, 23)
    assert assessment.criteria_missing == ["identifiable_patient", "identifiable_reporter"]


def test_overdose_and_child_exposure_count_as_serious() -> None:
    assert assess_report("I took a double dose of my pills", DAY_ZERO).seriousness == [
        "overdose_or_child_exposure"
    ]
    child = assess_report("my toddler swallowed two of the tablets", DAY_ZERO)
    assert "overdose_or_child_exposure" in child.seriousness


def test_placeholders_left_by_redaction_identify_the_reporter() -> None:
    assessment = assess_report("[NAME] reports dizziness after the medication", DAY_ZERO)
    assert "identifiable_reporter" in assessment.criteria_present
    assert "identifiable_patient" in assessment.criteria_present


# --- seriousness per language and per criterion (config/seriousness.yaml)

LANGUAGES = ("en", "de", "fr", "es", "it", "pt", "nl", "pl")
CRITERIA = (
    "death",
    "life_threatening",
    "hospitalisation",
    "disability",
    "congenital_anomaly",
    "medically_important",
    "overdose_or_child_exposure",
)
EXAMPLES = load_rules().examples


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: f"{e['language']}-{e['text'][:40]}")
def test_seriousness_examples_in_every_language(example: dict[str, Any]) -> None:
    assert seriousness_of(example["text"]) == example["expect"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_has_a_serious_example_per_criterion_and_a_false_positive_case(language: str) -> None:
    mine = [e for e in EXAMPLES if e["language"] == language]
    assert {name for e in mine for name in e["expect"]} == set(CRITERIA)
    assert any(e["expect"] == [] for e in mine)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_criterion_has_patterns_in_every_language(language: str) -> None:
    table = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))["seriousness"]
    for name in CRITERIA:
        assert table[name]["patterns"][language], (name, language)


@pytest.mark.parametrize(
    ("text", "due"),
    [
        ("Mio padre è stato ricoverato in ospedale dopo le compresse.", date(2026, 12, 10)),
        ("Mama trafiła do szpitala po nowym leku.", date(2026, 12, 10)),
        ("Mijn moeder is in het ziekenhuis opgenomen na de pillen.", date(2026, 12, 10)),
        ("Er hat die Tabletten genommen und hat Kopfschmerzen.", date(2027, 2, 23)),
    ],
)
def test_due_dates_from_the_issue(text: str, due: date) -> None:
    assessment = assess_report(text, DAY_ZERO)
    assert assessment.regulatory_due_date == due
    assert ("hospitalisation" in assessment.seriousness) is (due == date(2026, 12, 10))


def test_minimum_criteria_are_found_in_other_languages() -> None:
    assessment = assess_report("Mi hijo tiene ronchas desde el jarabe", DAY_ZERO, reporter_known=True)
    assert assessment.criteria_missing == []
