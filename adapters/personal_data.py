"""The port through which data-subject erasure and the retention purge reach the case store.

Kept apart from `adapters/ports.py` because only the erasure and retention activities may use
it: nothing else in the code base deletes or rewrites what the case store holds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from core.models import CaseErasure, CaseErasureOrder

# What an erasure leaves instead of free text, so readers see that something was removed.
ERASED_TEXT = "[erased]"


class PersonalDataStore(Protocol):
    async def find_cases(self, *, customer_pseudonym: str | None, case_id: str | None) -> list[str]:
        """Ids of the cases filed under the pseudonymised customer id, or the one named case."""

    async def erase_case(self, order: CaseErasureOrder) -> CaseErasure:
        """Erase one case's personal data, keeping audit facts and regulatory records.

        Idempotent: a case already erased answers `already_erased` and changes nothing, so a
        retried activity is harmless. Cases with an adverse-event report are kept
        (`retained_legal_obligation`); the decision is recorded in the audit trail either way.
        """

    async def expired_cases(self, cutoff: datetime, *, limit: int) -> list[str]:
        """Closed cases whose personal data is older than `cutoff` and not yet erased,
        without an adverse-event report (those follow the pharmacovigilance retention)."""
