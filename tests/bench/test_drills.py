"""Short form of `python -m bench drills`: real stacks, a fault while messages are in flight.

Each drill starts its own Temporal dev server, database, workers and API (about a minute
each), so only the two that exercise different recovery paths run here: the LLM backend
failing then hanging (Temporal retries the activity), and the workers' database link cut
(case writes retry until the database is back).
"""

from __future__ import annotations

import pytest

from bench.drills import llm_fault, postgres_outage

pytestmark = pytest.mark.integration


async def test_every_accepted_message_ends_in_one_complete_case_after_the_llm_fails_then_hangs() -> None:
    result = await llm_fault(messages=8)
    assert result["ok"], result
    assert result["accepted"] == 8
    assert result["llm_calls"]["error"] > 0


async def test_every_accepted_message_ends_in_one_complete_case_after_a_database_outage() -> None:
    result = await postgres_outage(messages=8)
    assert result["ok"], result
    assert result["accepted"] == 8
