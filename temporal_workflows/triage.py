"""TriageWorkflow: wait for an agent to pick the category, then run that category's workflow."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from core.models import CaseRef, CaseSnapshot, CaseStatus, Category, Route, TriageDecision
    from core.names import child_workflow_id
    from temporal_workflows.case_trail import CaseTrail
    from temporal_workflows.informational import InformationalWorkflow
    from temporal_workflows.safety_compliance import SafetyComplianceWorkflow
    from temporal_workflows.service_action import ServiceActionWorkflow

TRIAGED_WORKFLOWS: dict[Category, type] = {
    Category.informational: InformationalWorkflow,
    Category.service_action: ServiceActionWorkflow,
    Category.safety_compliance: SafetyComplianceWorkflow,
}


@workflow.defn
class TriageWorkflow:
    def __init__(self) -> None:
        self._trail: CaseTrail | None = None
        self._decision: TriageDecision | None = None
        self._child_started = False

    @workflow.run
    async def run(self, case: CaseRef) -> CaseSnapshot:
        trail = self._trail = CaseTrail(case.case_id, "triage", CaseStatus.awaiting_triage, None)
        await trail.set_status(CaseStatus.awaiting_triage, "an agent must choose the category")
        await trail.notify("triage_requested", "agent", "triage_requested", "A message needs a category.")
        await workflow.wait_condition(lambda: self._decision is not None)
        decision = self._decision
        assert decision is not None
        await trail.audit(
            "triage_decision",
            decision.category.value,
            decision.reason,
            {"category": decision.category.value},
            actor=f"agent:{decision.agent}",
        )
        # Same id as a direct route would use, so the API finds the category workflow either way.
        child_id = child_workflow_id(case.case_id, decision.category.value)
        routing = case.decision.model_copy(
            update={"category": decision.category, "route": Route(decision.category.value), "confidence": 1.0}
        )
        child = await workflow.start_child_workflow(
            TRIAGED_WORKFLOWS[decision.category].__name__,
            CaseRef(case_id=case.case_id, message=case.message, decision=routing, timers=case.timers),
            id=child_id,
            result_type=CaseSnapshot,
        )
        self._child_started = True
        trail.snapshot = trail.snapshot.model_copy(update={"category": decision.category})
        trail.note(next_workflow_id=child_id, triaged_by=decision.agent)
        await trail.set_status(CaseStatus.classified, f"triaged as {decision.category.value}", persist=False)
        final: CaseSnapshot = await child
        await trail.set_status(final.status, "category workflow finished", persist=False)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return trail.snapshot

    @workflow.update
    async def triage(self, decision: TriageDecision) -> CaseSnapshot:
        """Returns once the chosen category's workflow has started."""
        self._decision = decision
        await workflow.wait_condition(lambda: self._child_started)
        assert self._trail is not None
        return self._trail.snapshot

    @triage.validator
    def _validate_triage(self, decision: TriageDecision) -> None:
        if self._decision is not None:
            raise ValueError(f"the case was already triaged as {self._decision.category.value}")

    @workflow.query
    def state(self) -> CaseSnapshot | None:
        return None if self._trail is None else self._trail.snapshot
