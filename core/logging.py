"""structlog setup shared by every process: one JSON object per line, ids only, no message text.

Every line carries the ids of what it is about, from three sources:
- contextvars bound per HTTP request (`request_id`, `case_id`, `workflow_id`; api.observability)
  and per activity attempt (`workflow_id`, `run_id`, `activity`, `attempt`, `case_id`;
  worker.interceptors);
- the `temporal_workflow` / `temporal_activity` extras that the Temporal SDK's
  `workflow.logger` / `activity.logger` put on stdlib records (workflow.logger stays silent
  during replay, so a replayed workflow never logs a line twice);
- the current OpenTelemetry span (`trace_id`, `span_id`) when tracing is on.

Stdlib loggers (temporalio, uvicorn, alembic, workflow.logger) go through the same processors.
Message text never reaches a log call (only ids, labels, numbers); as a second line of defence
a processor replaces any event key known to carry text, and the SDK's habit of appending its
info dict to the message is turned off (the ids arrive as fields instead).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog
from opentelemetry import trace
from temporalio import activity, workflow

_TEXT_KEYS = frozenset({"text", "redacted_text", "message_text", "body", "raw_text"})
# Workflow ids embed the case id (core.names): `case-<uuid>[-<route>...]`.
_CASE_IN_WORKFLOW_ID = re.compile(r"^case-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")
_LOGGED_EXTRAS = ("case_id", "day", "labelled", "classified", "review_round", "error_type")
_TEMPORAL_KEYS = {
    "workflow_id": "workflow_id",
    "run_id": "run_id",  # workflow.logger
    "workflow_run_id": "run_id",  # activity.logger
    "workflow_type": "workflow_type",
    "activity_type": "activity",
    "attempt": "attempt",
    "task_queue": "task_queue",
}


def _drop_text_fields(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in _TEXT_KEYS & event_dict.keys():
        event_dict[key] = "[omitted]"
    return event_dict


def _temporal_ids(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Lift the Temporal SDK's log extras (stdlib records) into top-level id fields."""
    record = event_dict.get("_record")
    if record is not None:
        for extra in ("temporal_workflow", "temporal_activity"):
            details = getattr(record, extra, None)
            if isinstance(details, Mapping):
                for source, target in _TEMPORAL_KEYS.items():
                    if source in details:
                        event_dict.setdefault(target, details[source])
    workflow_id = event_dict.get("workflow_id")
    if "case_id" not in event_dict and isinstance(workflow_id, str):
        match = _CASE_IN_WORKFLOW_ID.match(workflow_id)
        if match:
            event_dict["case_id"] = match.group(1)
    return event_dict


def _trace_ids(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event_dict.setdefault("trace_id", format(context.trace_id, "032x"))
        event_dict.setdefault("span_id", format(context.span_id, "016x"))
    return event_dict


def shared_processors() -> list[Any]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _temporal_ids,
        _trace_ids,
        _drop_text_fields,
    ]


def configure_logging(level: str = "INFO", json_output: bool = True, stream: Any = None) -> None:
    """Route structlog and stdlib logging to one JSON-lines handler (`stream`, default stderr)."""
    renderer: Any = structlog.processors.JSONRenderer() if json_output else structlog.dev.ConsoleRenderer()
    formatter = structlog.stdlib.ProcessorFormatter(
        # Extras a workflow.logger call may add (ids and counts only; see _LOGGED_EXTRAS).
        foreign_pre_chain=[structlog.stdlib.ExtraAdder(allow=_LOGGED_EXTRAS), *shared_processors()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
        # _temporal_ids reads the record before remove_processors_meta drops it.
        pass_foreign_args=False,
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # The ids arrive as fields (_temporal_ids); the SDK's appended dict would repeat them as text.
    workflow.logger.workflow_info_on_message = False
    activity.logger.activity_info_on_message = False
    structlog.configure(
        processors=[
            *shared_processors(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=False,
    )


def bind_log_context(**ids: Any) -> None:
    """Add ids to every later line of this request / task (contextvars)."""
    structlog.contextvars.bind_contextvars(**ids)


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
