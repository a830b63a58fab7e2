"""`SafetyDatabasePort` recorded in our own database (`adverse_event_reports`, `safety_submissions`).

Stands in for a pharmacovigilance safety database such as Oracle Argus Safety or ArisGlobal
ARISg/LifeSphere: a real adapter would create the case there (using our case id as the sender's
case identifier so the safety database rejects a duplicate) and submit the ICSR through its
API or E2B gateway, returning the safety database's own reference as the receipt.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.db.engine import SqlAdapter, insert_if_absent
from adapters.db.tables import AdverseEventReportRow, SafetySubmissionRow
from adapters.ports import (
    ConflictingRecordError,
    InvalidTransitionError,
    RecordNotFoundError,
)
from core.models import (
    AdverseEventReport,
    AdverseEventStatus,
    SafetySubmission,
    SafetySubmissionReceipt,
)


class LocalSafetyDatabase(SqlAdapter):
    async def open_report(self, report: AdverseEventReport) -> AdverseEventReport:
        now = self._clock()
        async with self._sessions.begin() as session:
            await insert_if_absent(
                session,
                AdverseEventReportRow,
                {
                    **report.model_dump(),
                    "created_at": now,
                    "updated_at": now,
                },
            )
            row = await _report_row(session, report.case_id)
            if row is None:
                raise ConflictingRecordError(
                    f"report id {report.report_id!r} already belongs to another case"
                )
            return _report(row)

    async def record_decision(
        self, case_id: str, status: AdverseEventStatus, reviewer: str, reason: str
    ) -> AdverseEventReport:
        if status == "submitted":
            raise InvalidTransitionError("use submit() to submit a report")
        async with self._sessions.begin() as session:
            row = await _report_row(session, case_id, for_update=True)
            if row is None:
                raise RecordNotFoundError(f"case {case_id!r} has no adverse-event report")
            if row.status == "submitted":
                # What regulators received cannot be re-decided; a correction is a follow-up report.
                raise InvalidTransitionError(f"report {row.report_id} was already submitted")
            row.status = status
            row.reviewer = reviewer
            row.decision_reason = reason
            row.updated_at = self._clock()
            return _report(row)

    async def submit(self, submission: SafetySubmission) -> SafetySubmissionReceipt:
        now = self._clock()
        async with self._sessions.begin() as session:
            report = await _report_row(session, submission.case_id, for_update=True)
            if report is None or report.report_id != submission.report_id:
                raise RecordNotFoundError(
                    f"case {submission.case_id!r} has no report {submission.report_id!r}"
                )
            if report.status == "rejected":
                raise InvalidTransitionError(f"report {report.report_id} was rejected as not a safety case")
            submitted = await insert_if_absent(
                session,
                SafetySubmissionRow,
                {
                    # Issued like a real safety database would; retries read the first one back.
                    "reference": f"SDB-{uuid.uuid4().hex[:12].upper()}",
                    "case_id": submission.case_id,
                    "report_id": submission.report_id,
                    "reviewer": submission.reviewer,
                    "reason": submission.reason,
                    "submitted_at": now,
                },
            )
            receipt_row = (
                await session.scalars(
                    select(SafetySubmissionRow).where(SafetySubmissionRow.case_id == submission.case_id)
                )
            ).one()
            if submitted:
                report.status = "submitted"
                report.safety_db_reference = receipt_row.reference
                report.updated_at = now
            return SafetySubmissionReceipt(
                reference=receipt_row.reference, submitted_at=receipt_row.submitted_at
            )

    async def get_report(self, case_id: str) -> AdverseEventReport | None:
        async with self._sessions() as session:
            row = await _report_row(session, case_id)
            return None if row is None else _report(row)


async def _report_row(
    session: AsyncSession, case_id: str, *, for_update: bool = False
) -> AdverseEventReportRow | None:
    query = select(AdverseEventReportRow).where(AdverseEventReportRow.case_id == case_id)
    if for_update:
        query = query.with_for_update()
    return (await session.scalars(query)).one_or_none()


def _report(row: AdverseEventReportRow) -> AdverseEventReport:
    return AdverseEventReport.model_validate(
        {
            "report_id": row.report_id,
            "case_id": row.case_id,
            "day_zero": row.day_zero,
            "criteria_present": row.criteria_present,
            "criteria_missing": row.criteria_missing,
            "seriousness": row.seriousness,
            "serious": row.serious,
            "regulatory_due_date": row.regulatory_due_date,
            "status": row.status,
            "reviewer": row.reviewer,
            "decision_reason": row.decision_reason,
            "safety_db_reference": row.safety_db_reference,
        }
    )
