"""The deterministic pharmacovigilance rules: minimum criteria, seriousness, regulatory clock."""

from __future__ import annotations

from datetime import date, datetime, timezone

from core.pharmacovigilance import assess_report

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
