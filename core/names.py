"""Names that form the contract between API, workflows and workers (ids, activity names)."""

from __future__ import annotations

import uuid

CLASSIFY_ACTIVITY = "classify_message"

# Fixed namespace so that the same (tenant, channel, message_id) always maps to the same case id.
_CASE_NAMESPACE = uuid.UUID("6f1c3c52-6a0e-4c55-9a43-3f7d3f0b8d21")


def case_id_for(message_id: str, *, channel: str, tenant: str) -> str:
    """The case a message belongs to: a retry on the same channel finds the same case.

    Message ids are only unique within one channel's system (chat, email, telephony) and one
    tenant, so both are part of the identity. The unit separator cannot occur in any of the
    three (API validation), which keeps ("a", "b:c") and ("a:b", "c") apart.
    """
    return str(uuid.uuid5(_CASE_NAMESPACE, "\x1f".join((tenant, channel, message_id))))


def message_workflow_id(case_id: str) -> str:
    return f"case-{case_id}"


def child_workflow_id(case_id: str, route: str) -> str:
    return f"case-{case_id}-{route}"


def rerouted_workflow_id(case_id: str, category: str) -> str:
    """The category workflow a safety reviewer sends a case to (`not_a_safety_case`)."""
    return f"case-{case_id}-rerouted-{category}"


# Case activities (activities/cases.py); tests register fakes under the same names.
RECORD_CASE_ACTIVITY = "record_case"
APPEND_AUDIT_ACTIVITY = "append_audit"
SET_CASE_STATUS_ACTIVITY = "set_case_status"
ANSWER_FROM_KB_ACTIVITY = "answer_from_knowledge_base"
EXTRACT_SERVICE_REQUEST_ACTIVITY = "extract_service_request"
CREATE_TICKET_ACTIVITY = "create_ticket"
APPLY_TICKET_CHANGE_ACTIVITY = "apply_ticket_change"
OPEN_ADVERSE_EVENT_REPORT_ACTIVITY = "open_adverse_event_report"
RECORD_SAFETY_DECISION_ACTIVITY = "record_safety_decision"
SUBMIT_TO_SAFETY_DATABASE_ACTIVITY = "submit_to_safety_database"
NOTIFY_ACTIVITY = "notify"
SET_CASE_PRIORITY_ACTIVITY = "set_case_priority"
# The safety guard without the LLM, on the workflow task queue (activities/guard.py).
CHECK_SAFETY_GUARD_ACTIVITY = "check_safety_guard"
# The acceptance policy as a local activity: the route is recorded in history (activities/routing.py).
DECIDE_ROUTE_ACTIVITY = "decide_route"


def audit_key(case_id: str, step: str, sequence: int) -> str:
    return f"{case_id}:{step}:{sequence}"


def notification_key(case_id: str, purpose: str) -> str:
    return f"{case_id}:notify:{purpose}"


# Data-subject erasure and the retention purge (activities/personal_data.py, temporal_workflows/retention.py).
FIND_CUSTOMER_CASES_ACTIVITY = "find_cases_for_erasure"
ERASE_CASE_ACTIVITY = "erase_case_personal_data"
PURGE_EXPIRED_BATCH_ACTIVITY = "purge_expired_personal_data"
RETENTION_ACTOR = "retention-policy"


def erasure_workflow_id(request_id: str) -> str:
    return f"erasure-{request_id}"
