"""Read models for monitoring: queue depths and ages, and the agent labels of the quality loop.

Read-only queries over the case store (cases, audit_events, adverse_event_reports, tickets),
plus the `quality_reports` table the daily quality workflow writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from adapters.db.engine import SqlAdapter, insert_if_absent
from adapters.db.tables import AdverseEventReportRow, AuditEventRow, CaseRow, QualityReportRow, TicketRow
from core.models import CaseStatus, Category

# Cases that wait for a person (or for the LLM pool), by queue name used in metric labels.
QUEUE_STATUSES: dict[str, tuple[str, ...]] = {
    "triage": (CaseStatus.awaiting_triage.value,),
    # Set by the message workflow while the LLM pool is down (engineer 4's outage handling).
    "classification": ("awaiting_classification",),
    "agent": (CaseStatus.awaiting_agent.value,),
}
PENDING_REPORT_STATUSES = ("open", "escalated")
OPEN_TICKET_STATUSES = ("open", "escalated")
CATEGORY_VALUES = frozenset(c.value for c in Category)


@dataclass(frozen=True)
class QueueFigures:
    depth: int
    oldest_age_seconds: float


@dataclass(frozen=True)
class QueueSnapshot:
    queues: dict[str, QueueFigures]
    safety_reviews_over_sla: int
    regulatory_overdue: int
    min_seconds_to_regulatory_due: float | None
    tickets_over_sla: int


@dataclass(frozen=True)
class LabelledCase:
    """A case an agent gave a category to, with what the model had predicted."""

    case_id: str
    channel: str
    locale: str | None
    redacted_text: str
    predicted: str | None
    top_probability: float | None
    agent_label: str
    source: str  # triage_decision | safety_decision
    labelled_at: datetime


@dataclass(frozen=True)
class ClassifiedCase:
    predicted: str
    top_probability: float


def _age(now: datetime, since: datetime | None) -> float:
    return 0.0 if since is None else max(0.0, (now - since).total_seconds())


def _agent_label(entry: AuditEventRow) -> str | None:
    if entry.step == "triage_decision":
        return entry.decision if entry.decision in CATEGORY_VALUES else None
    if entry.step == "safety_decision":
        if entry.decision == "confirm":
            return Category.safety_compliance.value
        if entry.decision == "not_a_safety_case":
            target = (entry.observed or {}).get("reroute_to")
            return target if target in CATEGORY_VALUES else None
    return None


def _top_probability(observed: dict[str, Any]) -> float | None:
    probabilities = observed.get("probabilities")
    if not isinstance(probabilities, dict) or not probabilities:
        return None
    values = [float(v) for v in probabilities.values() if isinstance(v, int | float)]
    return max(values) if values else None


class SqlMonitoringStore(SqlAdapter):
    async def queue_snapshot(self, review_sla: timedelta) -> QueueSnapshot:
        now = self._clock()
        queues: dict[str, QueueFigures] = {}
        async with self._sessions() as session:
            for name, statuses in QUEUE_STATUSES.items():
                # Age = how long the oldest waiting customer has waited (since the message
                # arrived), not since the case row last changed: a priority or note update
                # must not make an old case look new.
                depth, oldest = (
                    await session.execute(
                        select(func.count(), func.min(CaseRow.received_at)).where(
                            CaseRow.status.in_(statuses)
                        )
                    )
                ).one()
                queues[name] = QueueFigures(int(depth), _age(now, oldest))
            reports = (
                await session.execute(
                    select(AdverseEventReportRow.created_at, AdverseEventReportRow.regulatory_due_date).where(
                        AdverseEventReportRow.status.in_(PENDING_REPORT_STATUSES)
                    )
                )
            ).all()
            tickets_over = (
                await session.execute(
                    select(func.count()).where(
                        TicketRow.status.in_(OPEN_TICKET_STATUSES), TicketRow.sla_due_at < now
                    )
                )
            ).scalar_one()
        created = [row[0] for row in reports]
        queues["safety_review"] = QueueFigures(len(reports), _age(now, min(created) if created else None))
        due_left = [
            (datetime.combine(due, datetime.min.time(), tzinfo=now.tzinfo) - now).total_seconds()
            for _, due in reports
        ]
        return QueueSnapshot(
            queues=queues,
            safety_reviews_over_sla=sum(now - at > review_sla for at in created),
            regulatory_overdue=sum(left < 0 for left in due_left),
            min_seconds_to_regulatory_due=min(due_left) if due_left else None,
            tickets_over_sla=int(tickets_over),
        )

    async def labelled_cases(self, start: datetime, end: datetime) -> list[LabelledCase]:
        """Cases an agent labelled in [start, end): triage choices and safety verdicts."""
        async with self._sessions() as session:
            decisions = (
                (
                    await session.execute(
                        select(AuditEventRow)
                        .where(
                            AuditEventRow.step.in_(("triage_decision", "safety_decision")),
                            AuditEventRow.at >= start,
                            AuditEventRow.at < end,
                        )
                        .order_by(AuditEventRow.at, AuditEventRow.id)
                    )
                )
                .scalars()
                .all()
            )
            labels: dict[str, tuple[str, AuditEventRow]] = {}
            for entry in decisions:
                label = _agent_label(entry)
                if label is not None:
                    labels[entry.case_id] = (label, entry)  # the latest decision wins
            if not labels:
                return []
            ids = list(labels)
            cases = {
                row.case_id: row
                for row in (await session.execute(select(CaseRow).where(CaseRow.case_id.in_(ids)))).scalars()
            }
            predictions = {
                row.case_id: row
                for row in (
                    await session.execute(
                        select(AuditEventRow).where(
                            AuditEventRow.case_id.in_(ids), AuditEventRow.step == "llm_classification"
                        )
                    )
                ).scalars()
            }
        result: list[LabelledCase] = []
        for case_id, (label, entry) in labels.items():
            case = cases.get(case_id)
            if case is None:
                continue
            prediction = predictions.get(case_id)
            predicted = prediction.decision if prediction and prediction.decision in CATEGORY_VALUES else None
            result.append(
                LabelledCase(
                    case_id=case_id,
                    channel=case.channel,
                    locale=case.locale,
                    redacted_text=case.redacted_text,
                    predicted=predicted,
                    top_probability=_top_probability(prediction.observed or {}) if prediction else None,
                    agent_label=label,
                    source=entry.step,
                    labelled_at=entry.at,
                )
            )
        return result

    async def classified_cases(self, start: datetime, end: datetime) -> list[ClassifiedCase]:
        """The model's label and top probability for every case classified in [start, end)."""
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    select(AuditEventRow.decision, AuditEventRow.observed).where(
                        AuditEventRow.step == "llm_classification",
                        AuditEventRow.at >= start,
                        AuditEventRow.at < end,
                    )
                )
            ).all()
        result = []
        for decision, observed in rows:
            top = _top_probability(observed or {})
            if decision in CATEGORY_VALUES and top is not None:
                result.append(ClassifiedCase(decision, top))
        return result

    async def save_quality_report(self, day: date, figures: dict[str, Any]) -> bool:
        """One row per day; a re-run of the same day keeps the first (returns False)."""
        async with self._sessions.begin() as session:
            return await insert_if_absent(
                session,
                QualityReportRow,
                {"day": day, "figures": figures, "created_at": self._clock()},
            )

    async def latest_quality_report(self) -> tuple[date, dict[str, Any], datetime] | None:
        async with self._sessions() as session:
            row = (
                await session.execute(select(QualityReportRow).order_by(QualityReportRow.day.desc()).limit(1))
            ).scalar_one_or_none()
        return None if row is None else (row.day, dict(row.figures), row.created_at)
