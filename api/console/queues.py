"""The console's work queues: who sees which queue, the filters, and reading them from the stores.

A queue a person's roles do not admit is never read: its cases reach neither page nor fragment.
Escalated cases stay in the queue of the people who do the work (listed first); the supervisors'
Escalations queue lists every one of them as well.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any
from urllib.parse import urlencode

from adapters.ports import CaseStore, TicketingPort
from api.security import Principal, Role
from core.models import CaseStatus, CaseSummary, Category, Channel, Route, Ticket

QUEUE_LIMIT = 100

SAFETY_ROLES = frozenset({Role.safety_reviewer, Role.supervisor})
TRIAGE_ROLES = frozenset({Role.agent, Role.safety_reviewer, Role.supervisor})
TICKET_ROLES = frozenset({Role.agent, Role.supervisor})
READER_ROLES = frozenset({Role.agent, Role.safety_reviewer, Role.supervisor, Role.admin})
# The message text is case content: for the people who work cases (as GET /v1/cases/{id}/message).
MESSAGE_ROLES = frozenset({Role.agent, Role.safety_reviewer, Role.supervisor})
SUPERVISOR_ROLES = frozenset({Role.supervisor})


@dataclass(frozen=True)
class QueueDefinition:
    key: str
    title: str
    status: CaseStatus
    roles: frozenset[Role]
    category: Category | None = None
    # The workflow route whose escalated cases stay in this queue (listed first): an escalation
    # tells a supervisor, it does not take the work away from the people who do it.
    route: Route | None = None


# In the order they are shown: safety reviews first (the regulatory clock runs from receipt).
QUEUES = (
    QueueDefinition(
        "safety",
        "Safety review",
        CaseStatus.awaiting_safety_review,
        SAFETY_ROLES,
        route=Route.safety_compliance,
    ),
    QueueDefinition("triage", "Triage", CaseStatus.awaiting_triage, TICKET_ROLES, route=Route.human_triage),
    QueueDefinition(
        "service",
        "Open tickets",
        CaseStatus.awaiting_agent,
        TICKET_ROLES,
        Category.service_action,
        route=Route.service_action,
    ),
    QueueDefinition("escalated", "Escalations", CaseStatus.escalated, SUPERVISOR_ROLES),
    # The LLM pool is down and the guard alone raised nothing: read-only, to spot safety reports.
    QueueDefinition(
        "classification", "Awaiting classification", CaseStatus.awaiting_classification, SUPERVISOR_ROLES
    ),
    QueueDefinition("attention", "Needs attention", CaseStatus.needs_attention, SUPERVISOR_ROLES),
)
QUEUE_ROLES: dict[str, frozenset[Role]] = {queue.key: queue.roles for queue in QUEUES}


@dataclass(frozen=True)
class QueueFilters:
    """The queue page's filters (query string): each narrows every queue shown."""

    channel: Channel | None = None
    category: Category | None = None
    status: CaseStatus | None = None
    # One queue paged on its own (`queue` + `offset`), from the "more" link under a full list.
    queue: str | None = None
    offset: int = 0

    @classmethod
    def from_query(cls, query: dict[str, str]) -> QueueFilters:
        """Unknown or malformed values are ignored (a bookmarked link outlives a renamed value)."""

        def pick(kind: type[Channel] | type[Category] | type[CaseStatus], name: str) -> Any:
            try:
                return kind(query.get(name, ""))
            except ValueError:
                return None

        offset = query.get("offset", "0")
        queue = query.get("queue")
        return cls(
            channel=pick(Channel, "channel"),
            category=pick(Category, "category"),
            status=pick(CaseStatus, "status"),
            queue=queue if queue in QUEUE_ROLES else None,
            offset=min(int(offset), 1_000_000) if offset.isdigit() else 0,
        )

    def query_string(self, **override: Any) -> str:
        values = {
            "channel": self.channel.value if self.channel else None,
            "category": self.category.value if self.category else None,
            "status": self.status.value if self.status else None,
            "queue": self.queue,
            "offset": self.offset or None,
        }
        values.update(override)
        return urlencode({key: value for key, value in values.items() if value not in (None, "", 0)})


@dataclass(frozen=True)
class Queue:
    key: str
    title: str
    items: list[CaseSummary]
    total: int = 0
    offset: int = 0
    # Service cases: their tickets by case id (status, assignee, SLA).
    tickets: dict[str, Ticket] = field(default_factory=dict)
    # Where the next page of the queue's main status starts (escalated cases lead every page).
    next_offset: int | None = None


async def visible_queues(
    store: CaseStore,
    principal: Principal,
    filters: QueueFilters | None = None,
    ticketing: TicketingPort | None = None,
) -> list[Queue]:
    """Only the queues the person's roles admit are read at all."""
    filters = filters or QueueFilters()
    queues: list[Queue] = []
    for definition in QUEUES:
        if not principal.roles & definition.roles:
            continue
        if filters.queue not in (None, definition.key):
            continue
        statuses = (CaseStatus.escalated, definition.status) if definition.route else (definition.status,)
        if filters.status is not None and filters.status not in statuses:
            continue
        if None not in (filters.category, definition.category) and filters.category != definition.category:
            continue
        offset = filters.offset if filters.queue == definition.key else 0
        items: list[CaseSummary] = []
        total = 0
        next_offset: int | None = None
        for status in statuses:
            if filters.status not in (None, status):
                continue
            found, count = await store.list_cases(
                status=status,
                category=definition.category or filters.category,
                channel=filters.channel,
                # Escalated cases of this queue's own kind only (each route escalates its own).
                route=definition.route if status is CaseStatus.escalated else None,
                limit=QUEUE_LIMIT,
                # Escalated cases (few, and the most urgent) lead every page; the rest pages on.
                offset=0 if status is CaseStatus.escalated else offset,
            )
            items, total = items + found, total + count
            if status is definition.status and offset + len(found) < count:
                next_offset = offset + len(found)
        if definition.key == "safety":
            # Regulatory due date first (oldest obligation on top), then arrival.
            items.sort(key=lambda c: (c.regulatory_due_date or date.max, c.received_at))
        tickets: dict[str, Ticket] = {}
        if definition.key == "service" and ticketing is not None and items:
            tickets = {t.case_id: t for t in await ticketing.get_tickets([c.case_id for c in items])}
            if Role.supervisor not in principal.roles:
                # A ticket another agent picked up leaves everyone else's queue.
                mine_or_free = [
                    c
                    for c in items
                    if c.case_id not in tickets or tickets[c.case_id].assignee in (None, principal.subject)
                ]
                total -= len(items) - len(mine_or_free)
                items = mine_or_free
        queues.append(Queue(definition.key, definition.title, items, total, offset, tickets, next_offset))
    return queues


def filter_options(principal: Principal) -> dict[str, list[str]]:
    statuses = [q.status.value for q in QUEUES if principal.roles & q.roles]
    return {
        "channel": [c.value for c in Channel],
        "category": [c.value for c in Category],
        "status": statuses,
    }


def time_left(case: CaseSummary, today: date | None = None) -> str:
    if case.regulatory_due_date is None:
        return "no due date"
    days = (case.regulatory_due_date - (today or datetime.now(timezone.utc).date())).days
    if days < 0:
        return f"overdue by {-days} day{'s' if days != -1 else ''}"
    if days == 0:
        return "due today"
    return f"{days} day{'s' if days != 1 else ''} left"
