"""SafetyComplianceWorkflow: hold the case for a human safety decision (deepened in issue #4)."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from core.models import CaseRef, CaseSnapshot, CaseStatus, Category, SafetyDecision


@workflow.defn
class SafetyComplianceWorkflow:
    def __init__(self) -> None:
        self._snapshot: CaseSnapshot | None = None
        self._decision: SafetyDecision | None = None

    @workflow.run
    async def run(self, case: CaseRef) -> CaseSnapshot:
        self._snapshot = CaseSnapshot(
            case_id=case.case_id,
            workflow="safety_compliance",
            status=CaseStatus.awaiting_safety_review,
            category=Category.safety_compliance,
        )
        await workflow.wait_condition(lambda: self._decision is not None)
        assert self._decision is not None
        self._snapshot = self._snapshot.model_copy(
            update={"status": CaseStatus.closed, "detail": {"decision": self._decision.model_dump()}}
        )
        return self._snapshot

    @workflow.signal
    def decide(self, decision: SafetyDecision) -> None:
        if self._decision is None:
            self._decision = decision

    @workflow.query
    def state(self) -> CaseSnapshot | None:
        return self._snapshot
