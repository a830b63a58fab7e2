"""Route -> child workflow class. Kept apart so the message workflow imports one name."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from core.models import Route

from temporal_workflows.informational import InformationalWorkflow
from temporal_workflows.safety_compliance import SafetyComplianceWorkflow
from temporal_workflows.service_action import ServiceActionWorkflow
from temporal_workflows.triage import TriageWorkflow

CHILD_WORKFLOWS: dict[Route, type] = {
    Route.informational: InformationalWorkflow,
    Route.service_action: ServiceActionWorkflow,
    Route.safety_compliance: SafetyComplianceWorkflow,
    Route.human_triage: TriageWorkflow,
}

ALL_WORKFLOWS: list[type] = [
    InformationalWorkflow,
    ServiceActionWorkflow,
    SafetyComplianceWorkflow,
    TriageWorkflow,
]
