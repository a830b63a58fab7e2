"""TriageWorkflow: wait for an agent to pick the category (deepened in issue #4)."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from core.models import CaseRef, CaseSnapshot, CaseStatus, TriageDecision


@workflow.defn
class TriageWorkflow:
    def __init__(self) -> None:
        self._snapshot: CaseSnapshot | None = None
        self._decision: TriageDecision | None = None

    @workflow.run
    async def run(self, case: CaseRef) -> CaseSnapshot:
        self._snapshot = CaseSnapshot(
            case_id=case.case_id, workflow="triage", status=CaseStatus.awaiting_triage
        )
        await workflow.wait_condition(lambda: self._decision is not None)
        assert self._decision is not None
        self._snapshot = self._snapshot.model_copy(
            update={"status": CaseStatus.closed, "category": self._decision.category}
        )
        return self._snapshot

    @workflow.signal
    def triage(self, decision: TriageDecision) -> None:
        if self._decision is None:
            self._decision = decision

    @workflow.query
    def state(self) -> CaseSnapshot | None:
        return self._snapshot
