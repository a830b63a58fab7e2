"""ServiceActionWorkflow: open a ticket and wait for an agent (deepened in issue #4)."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from core.models import CaseRef, CaseSnapshot, CaseStatus, Category


@workflow.defn
class ServiceActionWorkflow:
    def __init__(self) -> None:
        self._snapshot: CaseSnapshot | None = None

    @workflow.run
    async def run(self, case: CaseRef) -> CaseSnapshot:
        self._snapshot = CaseSnapshot(
            case_id=case.case_id,
            workflow="service_action",
            status=CaseStatus.awaiting_agent,
            category=Category.service_action,
        )
        return self._snapshot

    @workflow.query
    def state(self) -> CaseSnapshot | None:
        return self._snapshot
