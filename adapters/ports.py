"""The boundaries between the workflows' activities and the systems they write to.

Activities depend on these protocols only; `adapters/db` and the `*_local` adapters implement
them against our own database, and a Zendesk/Argus/notification-provider client can replace a
local adapter without touching an activity. Every write is idempotent on a key derived from the
activity input, because Temporal retries an activity whose worker crashed after the write.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Protocol

from core.models import (
    AdverseEventReport,
    AdverseEventStatus,
    ApiKeyRecord,
    AuditEntry,
    CaseMessage,
    CasePriorityChange,
    CaseRecord,
    CaseStatus,
    CaseSummary,
    Category,
    Channel,
    Notification,
    NotificationReceipt,
    Route,
    SafetySubmission,
    SafetySubmissionReceipt,
    Ticket,
    TicketChange,
    TicketRequest,
)


class RecordNotFoundError(LookupError):
    """An update named a case, ticket or report that was never created."""


class ConflictingRecordError(ValueError):
    """The idempotency key is already taken by a different record (e.g. message id of another case)."""


class InvalidTransitionError(ValueError):
    """The requested change is not allowed from the record's current state."""


def case_scoped_id(prefix: str, case_id: str) -> str:
    """A stable id such as `TCK-3F2A9C01B7DE` derived from the case id.

    Deriving instead of generating means a retry computes the same id as the first attempt.
    """
    digest = hashlib.sha256(case_id.encode("utf-8")).hexdigest()[:12].upper()
    return f"{prefix}-{digest}"


class CaseStore(Protocol):
    async def save_case(self, record: CaseRecord) -> None:
        """Create the case or refresh it; a closed case keeps its status and classification."""

    async def set_status(
        self,
        case_id: str,
        status: CaseStatus,
        *,
        category: Category | None = None,
        route: Route | None = None,
        confidence: float | None = None,
    ) -> None:
        """Move the case to `status`; `None` keeps the stored category/route/confidence."""

    async def set_priority(self, change: CasePriorityChange) -> None:
        """Place the case in the work queue: possible safety cases first, by regulatory due date."""

    async def append_audit(self, entry: AuditEntry) -> bool:
        """Append to the case's audit trail; False when `(case_id, key)` was already written."""

    async def get_case(self, case_id: str) -> CaseSummary | None: ...

    async def get_message(self, case_id: str) -> CaseMessage | None:
        """The stored (redacted) message; callers check that the reader may see content."""

    async def get_timeline(self, case_id: str) -> list[AuditEntry]:
        """The audit trail in the order things happened (`at`, then insertion order)."""

    async def list_cases(
        self,
        *,
        status: CaseStatus | None = None,
        category: Category | None = None,
        channel: Channel | None = None,
        route: Route | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[CaseSummary], int]:
        """A page of cases and the total: open possible safety cases first (earliest regulatory due
        date, then review deadline), then other open cases, newest first."""


class TicketingPort(Protocol):
    async def create_ticket(self, request: TicketRequest) -> Ticket:
        """The case's ticket; a second call for the same case returns the first ticket."""

    async def apply_change(self, change: TicketChange) -> Ticket:
        """Apply a change once per `(case_id, key)` and return the ticket as it now stands."""

    async def get_ticket(self, case_id: str) -> Ticket | None: ...

    async def get_tickets(self, case_ids: Sequence[str]) -> list[Ticket]:
        """The tickets of these cases (those that have one), in one call: for work queues."""


class SafetyDatabasePort(Protocol):
    async def open_report(self, report: AdverseEventReport) -> AdverseEventReport:
        """Open the case's adverse-event report; a second call returns the first report."""

    async def record_decision(
        self, case_id: str, status: AdverseEventStatus, reviewer: str, reason: str
    ) -> AdverseEventReport:
        """Record a pharmacovigilance reviewer's decision on the case's report."""

    async def submit(self, submission: SafetySubmission) -> SafetySubmissionReceipt:
        """Submit the report once per case; a retry returns the first receipt."""

    async def get_report(self, case_id: str) -> AdverseEventReport | None: ...


class NotificationPort(Protocol):
    async def send(self, notification: Notification) -> NotificationReceipt:
        """Queue once per `key`; a repeat returns the first receipt with `duplicate=True`."""


class ApiKeyStore(Protocol):
    """Channel integrations' API keys; only a hash of each key is kept (api/security.py)."""

    async def create(
        self, key_id: str, key_hash: str, name: str, channel: Channel | None, *, created_by: str
    ) -> ApiKeyRecord: ...

    async def credentials(self, key_id: str) -> tuple[ApiKeyRecord, str] | None:
        """The key's record and stored hash, revoked keys included (the caller refuses them)."""

    async def list_keys(self) -> list[ApiKeyRecord]: ...

    async def revoke(self, key_id: str) -> ApiKeyRecord | None:
        """Mark the key revoked (idempotent); None when there is no such key."""
