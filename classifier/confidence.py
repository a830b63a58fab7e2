"""Turn the label token's top-K log-probabilities into a probability per label.

Each candidate token at the deciding position is mapped to the label whose answer word it
starts (tokenisers split words differently: "safety" may be one token or "s"+"afety"). A token
that is a prefix of several answer words says nothing about which one, so it is left out.
Probabilities are summed per label and renormalised over the mass that mapped to a label;
that mass is reported too, because a low value means the model wanted to say something else.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from classifier.backends.base import TokenAlternatives
from core.models import Category, LabelProbabilities

# A deciding position must put at least this much probability on label words.
MIN_LABEL_MASS = 0.05


class NoLabelError(ValueError):
    """No generated position carried a distribution over the answer words."""


def _normalise_token(token: str) -> str:
    return token.strip().strip('"{}:_ ').lower()


def map_token(
    token: str,
    answer_words: Mapping[Category, str],
    ambiguous_prefixes: Mapping[str, Category] | None = None,
) -> Category | None:
    piece = _normalise_token(token)
    if not piece:
        return None
    if ambiguous_prefixes and piece in ambiguous_prefixes:
        return ambiguous_prefixes[piece]
    matches = [
        category
        for category, word in answer_words.items()
        if word.startswith(piece) or piece.startswith(word)
    ]
    return matches[0] if len(matches) == 1 else None


def label_distribution(
    candidates: Sequence[tuple[str, float]],
    answer_words: Mapping[Category, str],
    ambiguous_prefixes: Mapping[str, Category] | None = None,
) -> tuple[dict[Category, float], float]:
    mass = dict.fromkeys(Category, 0.0)
    for token, logprob in candidates:
        category = map_token(token, answer_words, ambiguous_prefixes)
        if category is not None:
            mass[category] += math.exp(logprob)
    return mass, sum(mass.values())


def probabilities_from_positions(
    positions: Sequence[TokenAlternatives],
    answer_words: Mapping[Category, str],
    ambiguous_prefixes: Mapping[str, Category] | None = None,
) -> tuple[LabelProbabilities, float]:
    """Find the first position that decides the label and return (probabilities, label mass)."""
    for position in positions:
        mass, total = label_distribution(position.candidates, answer_words, ambiguous_prefixes)
        if total >= MIN_LABEL_MASS:
            # Clamp: summed exp(logprob) can exceed 1 by float error.
            label_mass = min(total, 1.0)
            return (
                LabelProbabilities(
                    informational=mass[Category.informational] / total,
                    service_action=mass[Category.service_action] / total,
                    safety_compliance=mass[Category.safety_compliance] / total,
                ),
                label_mass,
            )
    raise NoLabelError("no position put probability on an answer word")
