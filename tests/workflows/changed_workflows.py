"""Deliberately changed copies of workflows, registered under the real names, for the replay tests.

Kept in their own module because the workflow sandbox re-imports the module a workflow is
defined in, and a test module's collection-time file access is not allowed there.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from core.models import CaseRef, CaseSnapshot, KnowledgeAnswer, KnowledgeQuery
    from core.names import ANSWER_FROM_KB_ACTIVITY
    from temporal_workflows.case_trail import run_case_activity


@workflow.defn(name="InformationalWorkflow")
class InformationalWithExtraActivity:
    """An unguarded change: asks the knowledge base twice."""

    @workflow.run
    async def run(self, case: CaseRef) -> CaseSnapshot:
        query = KnowledgeQuery(case_id=case.case_id, redacted_text=case.message.redacted_text)
        await run_case_activity(ANSWER_FROM_KB_ACTIVITY, query, KnowledgeAnswer)
        await run_case_activity(ANSWER_FROM_KB_ACTIVITY, query, KnowledgeAnswer)
        raise AssertionError("replay should have failed before this point")


@workflow.defn(name="ServiceActionWorkflow")
class ServiceActionWithLeadingTimer:
    """An unguarded change: waits a minute before doing anything."""

    @workflow.run
    async def run(self, case: CaseRef) -> CaseSnapshot:
        await workflow.sleep(timedelta(minutes=1))
        raise AssertionError("replay should have failed before this point")
