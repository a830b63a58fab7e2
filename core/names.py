"""Names that form the contract between API, workflows and workers (ids, activity names)."""

from __future__ import annotations

import uuid

CLASSIFY_ACTIVITY = "classify_message"

# Fixed namespace so that the same message_id always maps to the same case id.
_CASE_NAMESPACE = uuid.UUID("6f1c3c52-6a0e-4c55-9a43-3f7d3f0b8d21")


def case_id_for(message_id: str) -> str:
    return str(uuid.uuid5(_CASE_NAMESPACE, message_id))


def message_workflow_id(case_id: str) -> str:
    return f"case-{case_id}"


def child_workflow_id(case_id: str, route: str) -> str:
    return f"case-{case_id}-{route}"
