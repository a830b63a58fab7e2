import math

import pytest

from classifier.backends.base import TokenAlternatives
from classifier.confidence import NoLabelError, map_token, probabilities_from_positions
from classifier.prompt import PRODUCTION_PROMPT
from core.models import Category

WORDS = PRODUCTION_PROMPT.answer_words
AMBIGUOUS = dict(PRODUCTION_PROMPT.ambiguous_prefixes)


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("info", Category.informational),
        (" info", Category.informational),
        ('"inf', Category.informational),
        ("service", Category.service_action),
        ("Service", Category.service_action),
        ("safety", Category.safety_compliance),
        ("s", Category.safety_compliance),  # Qwen splits "safety" as "s" + "afety"
        ("python", None),
        ("", None),
        ('"', None),
    ],
)
def test_tokens_map_to_the_label_whose_answer_word_they_start(token: str, expected: Category | None) -> None:
    assert map_token(token, WORDS, AMBIGUOUS) == expected


def test_a_prefix_of_two_answer_words_counts_for_neither_without_a_declared_owner() -> None:
    assert map_token("s", WORDS) is None


def test_probabilities_are_summed_per_label_and_renormalised() -> None:
    position = TokenAlternatives(
        token="s",
        candidates=[
            ("s", math.log(0.5)),
            ("safety", math.log(0.1)),
            ("service", math.log(0.2)),
            ("info", math.log(0.1)),
            ("python", math.log(0.1)),
        ],
    )
    probabilities, mass = probabilities_from_positions([position], WORDS, AMBIGUOUS)
    assert mass == pytest.approx(0.9)
    assert probabilities.safety_compliance == pytest.approx(0.6 / 0.9)
    assert probabilities.service_action == pytest.approx(0.2 / 0.9)
    assert probabilities.informational == pytest.approx(0.1 / 0.9)
    total = probabilities.informational + probabilities.service_action + probabilities.safety_compliance
    assert total == pytest.approx(1.0)


def test_positions_without_label_mass_are_skipped_until_the_deciding_token() -> None:
    forced_quote = TokenAlternatives(token='"', candidates=[('"', 0.0)])
    label = TokenAlternatives(token="info", candidates=[("info", math.log(0.7)), ("service", math.log(0.3))])
    probabilities, _ = probabilities_from_positions([forced_quote, label], WORDS, AMBIGUOUS)
    assert probabilities.ranked()[0] == (Category.informational, pytest.approx(0.7))


def test_no_label_anywhere_is_an_error_not_a_guess() -> None:
    with pytest.raises(NoLabelError):
        probabilities_from_positions(
            [TokenAlternatives(token="```", candidates=[("```", 0.0)])], WORDS, AMBIGUOUS
        )
