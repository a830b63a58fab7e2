"""InformationalWorkflow: answer from the reviewed knowledge base, or hand over to an agent."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from core.models import CaseRef, CaseSnapshot, CaseStatus, Category, KnowledgeAnswer, KnowledgeQuery
    from core.names import ANSWER_FROM_KB_ACTIVITY
    from temporal_workflows.attention import OWN_FAILURE_PATCH, record_needs_attention
    from temporal_workflows.case_trail import CaseTrail, run_case_activity


@workflow.defn
class InformationalWorkflow:
    def __init__(self) -> None:
        self._trail: CaseTrail | None = None

    @workflow.run
    async def run(self, case: CaseRef) -> CaseSnapshot:
        try:
            return await self._handle(case)
        except (ActivityError, ApplicationError) as err:
            # A port refused a write no retry can fix (a local activity's error arrives unwrapped). A case rerouted by a safety reviewer has no
            # parent waiting to record that, so the category workflow records it itself.
            if not workflow.patched(OWN_FAILURE_PATCH):
                raise
            return await record_needs_attention(case.case_id, "InformationalWorkflow", err)

    async def _handle(self, case: CaseRef) -> CaseSnapshot:
        trail = self._trail = CaseTrail(
            case.case_id, "informational", CaseStatus.classified, Category.informational
        )
        answer = await run_case_activity(
            ANSWER_FROM_KB_ACTIVITY,
            KnowledgeQuery(case_id=case.case_id, redacted_text=case.message.redacted_text),
            KnowledgeAnswer,
        )
        evidence = {
            "article_id": answer.article_id,
            "article_version": answer.article_version,
            "score": answer.score,
            "min_score": case.timers.kb_min_score,
            "knowledge_base_version": answer.knowledge_base_version,
        }
        trail.note(**evidence)
        if answer.article_id is not None and answer.answer and answer.score >= case.timers.kb_min_score:
            await trail.audit(
                "kb_answer", "answered", "reviewed article matched above the threshold", evidence
            )
            await trail.notify(
                "kb_answer", "customer", "kb_answer", answer.answer, channel=case.message.channel.value
            )
            await trail.set_status(CaseStatus.answered, "answer sent to the customer")
            await trail.set_status(CaseStatus.closed, "answered from the knowledge base")
        else:
            # Never guess: below the threshold a person answers.
            await trail.audit(
                "kb_answer", "no_confident_match", "no article scored above the threshold", evidence
            )
            await trail.set_status(CaseStatus.awaiting_agent, "handed over to the agent queue")
            await trail.notify(
                "agent_handoff",
                "agent",
                "informational_handoff",
                f"Question without a confident knowledge-base answer (best score {answer.score:.2f}).",
            )
            await trail.set_status(CaseStatus.closed, "handed over to an agent")
        return trail.snapshot

    @workflow.query
    def state(self) -> CaseSnapshot | None:
        return None if self._trail is None else self._trail.snapshot
