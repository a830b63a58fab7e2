"""The sizing rule: worker slots, database pool, model slots and timeouts sized to each other.

A setting that breaks the rule does not fail at once; it fails under a burst, as pool
timeouts, retries or requests queued invisibly inside the model server. The worker checks
the rule at start and logs every violation (docs/design.md, "Sizing rule").
"""

from __future__ import annotations

from core.config import Settings
from temporal_workflows.case_trail import CASE_ACTIVITY_TIMEOUT
from temporal_workflows.message import CLASSIFY_TIMEOUT


def sizing_problems(
    settings: Settings, *, model_slots: int | None = None, llm_replicas: int = 1
) -> list[str]:
    """Violations of the sizing rule for one worker configuration (empty = sized consistently).

    `model_slots` is the model server's parallel capacity (OLLAMA_NUM_PARALLEL x instances)
    when known; `llm_replicas` the number of LLM worker processes sharing it.
    """
    problems: list[str] = []
    connections = settings.db_pool_size + settings.db_max_overflow
    if "workflows" in settings.worker_roles and settings.workflow_max_concurrent_activities > connections:
        problems.append(
            f"workflow_max_concurrent_activities={settings.workflow_max_concurrent_activities} exceeds "
            f"the database pool ({settings.db_pool_size}+{settings.db_max_overflow}={connections}): "
            "activities would queue for connections inside their own timeout"
        )
    if settings.db_pool_timeout_seconds >= CASE_ACTIVITY_TIMEOUT.total_seconds():
        problems.append(
            f"db_pool_timeout_seconds={settings.db_pool_timeout_seconds} must be below the case "
            f"activity timeout ({CASE_ACTIVITY_TIMEOUT.total_seconds():.0f} s)"
        )
    if "llm" in settings.worker_roles:
        if settings.llm_timeout_seconds >= CLASSIFY_TIMEOUT.total_seconds():
            problems.append(
                f"llm_timeout_seconds={settings.llm_timeout_seconds} must be below the classify "
                f"activity timeout ({CLASSIFY_TIMEOUT.total_seconds():.0f} s)"
            )
        total_llm_slots = settings.llm_max_concurrent * llm_replicas
        if model_slots is not None and total_llm_slots > model_slots:
            problems.append(
                f"{llm_replicas} LLM worker(s) x llm_max_concurrent={settings.llm_max_concurrent} = "
                f"{total_llm_slots} concurrent calls > {model_slots} model slots: calls would queue "
                "inside the model server, invisible to Temporal"
            )
    return problems
