"""The API's metrics; definitions live in core.metrics (one module for every process).

Per-case counts (messages by channel/category/route/answer, confidence, decision steps) are
recorded by the workflow worker when the case is first stored, so a retried POST never counts
twice; the HTTP layer (rate, errors, latency per route template) comes from
prometheus-fastapi-instrumentator (api.observability).
"""

from __future__ import annotations

from core.metrics import CLASSIFICATION_SECONDS, PENDING_RESPONSES

__all__ = ["CLASSIFICATION_SECONDS", "PENDING_RESPONSES"]
