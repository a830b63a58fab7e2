"""Every application metric of the service, in one place (Prometheus, default registry).

Each process exports the ones it records: the API serves `/metrics/`; a worker serves its own
on `CC_WORKER_APP_METRICS_PORT` next to the Temporal SDK's on `CC_WORKER_METRICS_PORT`.
Label values are bounded enums (channel, category, route, step, queue), never ids or text.
docs/monitoring.md says what each one is for; deploy/prometheus/rules/ alerts on them.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# ---------------------------------------------------------------- API (request path)
CLASSIFICATION_SECONDS = Histogram(
    "cc_classification_response_seconds",
    "POST /v1/messages time until the routing decision is known (200 answers only)",
    buckets=(0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30),
)
PENDING_RESPONSES = Counter(
    "cc_messages_pending_total",
    "POST /v1/messages answered 202 because classification took too long (per request)",
)

# ---------------------------------------------------------------- workflow worker: cases
MESSAGES_ACCEPTED = Counter(
    "cc_messages_accepted_total",
    "Accepted messages, counted once per case when the case is first recorded; "
    "answer is 200 when the decision came within the API's wait, else 202",
    ["channel", "category", "route", "answer"],
)
CONFIDENCE = Histogram(
    "cc_classification_confidence",
    "Model probability of the routed category, once per case",
    ["category"],
    buckets=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0),
)
DECISION_STEPS = Counter(
    "cc_decision_steps_total",
    "Decision steps of recorded cases by step and decision (guard overrides, triage)",
    ["step", "decision"],
)
AGENT_DECISIONS = Counter(
    "cc_agent_decisions_total",
    "Agents' category decisions: kind=triage (category chosen) or safety_review (verdict)",
    ["kind"],
)
AGENT_OVERRIDES = Counter(
    "cc_agent_overrides_total",
    "Agent decisions that contradict the model's predicted category",
    ["kind", "predicted", "chosen"],
)
ACTIVITY_RETRIES = Counter(
    "cc_activity_retries_total",
    "Activity attempts after the first (Temporal retries), by activity type",
    ["activity"],
)
ACTIVITY_FAILURES = Counter(
    "cc_activity_failures_total",
    "Activity attempts that raised, by activity type and error type",
    ["activity", "error"],
)

# ---------------------------------------------------------------- LLM worker: classification
LLM_SECONDS = Histogram(
    "cc_llm_classification_seconds",
    "One classification (prompt evaluation + answer) in the LLM worker",
    buckets=(0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 20, 30),
)
PROMPT_TOKENS = Histogram(
    "cc_llm_prompt_tokens",
    "Prompt tokens of one classification (fixed prefix + message)",
    buckets=(256, 512, 1024, 1280, 1536, 2048, 2560, 3072, 4096),
)
LABEL_MASS = Histogram(
    "cc_llm_label_mass",
    "Probability mass the model puts on the three labels at the answer token",
    buckets=(0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.999, 1.0),
)
PREDICTIONS = Counter("cc_llm_predictions_total", "Classifications by the model's top label", ["label"])
LLM_ERRORS = Counter(
    "cc_llm_errors_total",
    "Failed classification attempts: kind=backend (retried by Temporal) or no_label (not retried)",
    ["kind"],
)
GUARD_RAISES = Counter(
    "cc_safety_guard_raises_total",
    "Messages the deterministic safety guard raised to safety, by the model's own label",
    ["model_label"],
)
INJECTION_FLAGS = Counter("cc_injection_flags_total", "Messages flagged as trying to instruct the classifier")

# ---------------------------------------------------------------- workflow worker: queues (collector)
QUEUE_DEPTH = Gauge("cc_queue_depth", "Open cases waiting for a person, by queue", ["queue"])
QUEUE_OLDEST_AGE = Gauge(
    "cc_queue_oldest_age_seconds", "Age of the oldest open case in the queue (0 when empty)", ["queue"]
)
SAFETY_REVIEW_SLA_SECONDS = Gauge(
    "cc_safety_review_sla_seconds", "Review SLA the queue ages are compared with (CaseTimers.review_deadline)"
)
SAFETY_REGULATORY_MIN_SECONDS_LEFT = Gauge(
    "cc_safety_regulatory_min_seconds_left",
    "Time left until the earliest regulatory due date among pending safety reviews "
    "(negative when overdue; NaN when none is pending, so no comparison matches)",
)
SLA_BREACHES = Gauge(
    "cc_sla_breaches",
    "Open items past their due date now: kind=safety_review (older than the review SLA), "
    "regulatory (past the regulatory due date), ticket (service SLA)",
    ["kind"],
)
COLLECTOR_LAST_SUCCESS = Gauge(
    "cc_queue_collector_last_success_timestamp_seconds", "When the queue collector last read the case store"
)

# ---------------------------------------------------------------- quality loop (daily)
QUALITY_AGREEMENT = Gauge(
    "cc_quality_agreement_ratio",
    "Share of agent-labelled cases where the agent's category equals the model's, by true class "
    "(class=all for all classes)",
    ["category"],
)
QUALITY_LABELLED = Gauge("cc_quality_labelled_cases", "Agent-labelled cases in the last daily report")
QUALITY_CONFIDENCE_PSI = Gauge(
    "cc_quality_confidence_psi",
    "Population stability index of the model's top probability, last day vs the evaluation baseline",
)
QUALITY_CATEGORY_SHARE = Gauge(
    "cc_quality_category_share", "Share of the day's classified cases by the model's label", ["category"]
)
QUALITY_LAST_RUN = Gauge("cc_quality_last_run_timestamp_seconds", "When the daily quality report last ran")
