"""Prometheus metrics of the API (the worker exports the Temporal SDK's own)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

MESSAGES = Counter(
    "cc_messages_total",
    "Messages accepted, by channel, category and route",
    ["channel", "category", "route"],
)
CLASSIFICATION_SECONDS = Histogram(
    "cc_classification_response_seconds",
    "POST /v1/messages time until the routing decision is known",
    buckets=(0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30),
)
CONFIDENCE = Histogram(
    "cc_classification_confidence",
    "Confidence of the routed category, by category",
    ["category"],
    buckets=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0),
)
DECISION_STEPS = Counter(
    "cc_decision_steps_total",
    "Decision steps by step and decision (guard overrides, triage)",
    ["step", "decision"],
)
PENDING_RESPONSES = Counter(
    "cc_messages_pending_total",
    "Messages answered 202 because classification took too long",
)
