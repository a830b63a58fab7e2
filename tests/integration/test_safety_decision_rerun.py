"""A reviewer's confirm recorded again after its submission (a re-run local activity) is not an error.

Case writes are local activities: when the workflow task that ran them is retried (a worker
crash, an update or signal arriving as the workflow completes), they run again. Recording the
same confirm after the report was submitted must return the report, not fail the safety workflow
with a non-retryable InvalidTransitionError; any other decision on a submitted report still fails.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import ActivityEnvironment

from adapters.ports import InvalidTransitionError
from core.models import AdverseEventIntake, SafetyDecisionRecord, SafetySubmission
from tests.integration.test_case_activities import CASE_ID, case_activities, intake

pytestmark = [pytest.mark.asyncio, pytest.mark.integration]

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)


async def test_a_confirm_recorded_again_after_its_submission_returns_the_submitted_report(
    pg_sessions: async_sessionmaker[AsyncSession],
) -> None:
    activities = case_activities(pg_sessions)
    env = ActivityEnvironment()
    await env.run(activities.record_case, intake())
    report = await env.run(
        activities.open_adverse_event_report,
        AdverseEventIntake(case_id=CASE_ID, redacted_text=intake().record.redacted_text, day_zero=T0),
    )
    confirm = SafetyDecisionRecord(case_id=CASE_ID, status="confirmed", reviewer="pv-1", reason="plausible")
    await env.run(activities.record_safety_decision, confirm)
    receipt = await env.run(
        activities.submit_to_safety_database,
        SafetySubmission(case_id=CASE_ID, report_id=report.report_id, reviewer="pv-1", reason="plausible"),
    )

    again = await env.run(activities.record_safety_decision, confirm)
    assert again.status == "submitted"
    assert again.safety_db_reference == receipt.reference
    assert (again.reviewer, again.decision_reason) == ("pv-1", "plausible")

    # Anything else is a new decision on a submitted report: still refused.
    for other in (
        confirm.model_copy(update={"reviewer": "pv-2"}),
        confirm.model_copy(update={"reason": "another reason"}),
        confirm.model_copy(update={"status": "rejected"}),
        confirm.model_copy(update={"status": "escalated"}),
    ):
        with pytest.raises(InvalidTransitionError):
            await env.run(activities.record_safety_decision, other)
