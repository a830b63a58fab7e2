"""The real embedded model (Qwen2.5-Coder-1.5B via llama.cpp) on a handful of clear messages."""

from __future__ import annotations

import pytest

from classifier.pipeline import ClassificationPipeline
from core.models import Category, Channel, ClassifyInput

pytestmark = pytest.mark.llm

CLEAR_MESSAGES = [
    ("Please cancel order 88231, I no longer need it.", Category.service_action),
    ("I forgot my password and cannot log in, please reset it.", Category.service_action),
    ("Do you deliver to Ireland, and how long does shipping take?", Category.informational),
    ("Which payment methods do you accept?", Category.informational),
    ("My daughter swallowed several of my blood pressure tablets an hour ago.", Category.safety_compliance),
    (
        "Since I started the new antibiotic my face is swollen and I can hardly breathe.",
        Category.safety_compliance,
    ),
]


@pytest.mark.parametrize(("text", "expected"), CLEAR_MESSAGES)
def test_real_model_labels_clear_messages(
    real_pipeline: ClassificationPipeline, text: str, expected: Category
) -> None:
    result = real_pipeline.classifier.classify(
        ClassifyInput(case_id="t", redacted_text=text, channel=Channel.chat)
    )
    probabilities = result.probabilities
    values = [probabilities.of(c) for c in Category]
    assert all(0.0 <= p <= 1.0 for p in values)
    assert sum(values) <= 1.0 + 1e-9
    assert 0.0 < result.label_mass <= 1.0
    assert result.label is expected, probabilities
    assert result.completion_tokens == 1  # one generated token per classification
    assert result.backend == "llamacpp"
