"""The classify activity heartbeats while its LLM call runs, and stops when the call ends."""

from __future__ import annotations

import dataclasses
import itertools
import threading
import time
from datetime import timedelta

import pytest
from temporalio.testing import ActivityEnvironment

from activities.classification import ClassificationActivities
from classifier.backends.base import LLMRequest, LLMResponse
from classifier.backends.fake import FakeBackend
from classifier.pipeline import ClassificationPipeline
from classifier.policy import load_thresholds
from classifier.service import Classifier
from core.models import Channel, ClassificationOutcome, ClassifyInput, GuardResult
from tests.conftest import TEST_POLICY


class SlowBackend(FakeBackend):
    """The fake's answers after `seconds`, blocking the calling thread like a real LLM call."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds
        self.thread: threading.Thread | None = None

    def complete(self, request: LLMRequest) -> LLMResponse:
        self.thread = threading.current_thread()
        time.sleep(self.seconds)
        return super().complete(request)


def activities(backend: FakeBackend, every: timedelta = timedelta(seconds=2)) -> ClassificationActivities:
    pipeline = ClassificationPipeline(
        Classifier(backend),
        lambda _: GuardResult(raise_to_safety=False),
        "test-guard",
        load_thresholds(TEST_POLICY),
    )
    return ClassificationActivities(pipeline, heartbeat_every=every)


REQUEST = ClassifyInput(case_id="c-1", redacted_text="please cancel order 12345", channel=Channel.chat)


@pytest.mark.parametrize(
    ("heartbeat_timeout", "every", "expected_gap"),
    [
        # The workflow's heartbeat timeout sets the pace: a third of it.
        (timedelta(seconds=0.3), timedelta(seconds=2), 0.1),
        # Without one (or a long one), the activity's own interval.
        (None, timedelta(seconds=0.1), 0.1),
    ],
)
def test_the_classify_activity_heartbeats_while_the_llm_call_runs(
    heartbeat_timeout: timedelta | None, every: timedelta, expected_gap: float
) -> None:
    backend = SlowBackend(seconds=0.65)
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, heartbeat_timeout=heartbeat_timeout)
    beats: list[tuple[float, threading.Thread]] = []
    env.on_heartbeat = lambda *_: beats.append((time.monotonic(), threading.current_thread()))
    started = time.monotonic()
    outcome = env.run(activities(backend, every).classify_message, REQUEST)
    finished = time.monotonic()
    assert isinstance(outcome, ClassificationOutcome)
    assert outcome.classification.label.value == "service_action"
    # About every `expected_gap` seconds during the 0.65 s call, from another thread than the call's.
    assert 3 <= len(beats) <= 7, beats
    assert all(started < at < finished for at, _ in beats)
    assert all(thread is not backend.thread for _, thread in beats)
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(beats)]
    assert max(gaps) < expected_gap * 2.5, gaps
    # The helper thread stopped with the call.
    count = len(beats)
    time.sleep(3 * expected_gap)
    assert len(beats) == count


def test_a_fast_call_does_not_wait_for_the_heartbeat_interval() -> None:
    env = ActivityEnvironment()
    beats: list[object] = []
    env.on_heartbeat = lambda *details: beats.append(details)
    started = time.monotonic()
    env.run(activities(FakeBackend(), timedelta(seconds=5)).classify_message, REQUEST)
    assert time.monotonic() - started < 1.0
    assert beats == []
