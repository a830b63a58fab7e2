"""The redactor's measured recall on the committed PII corpus stays at or above its floors.

The floors sit a little under the committed run (eval/results/pii, docs/compliance.md): a change
that loses recall on either split, or starts removing drug names, order numbers, doses or dates,
fails here before it reaches the leak test or the docs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from eval.pii import load_corpus, score

CORPUS = Path(__file__).resolve().parents[2] / "eval" / "data" / "pii-corpus.jsonl"


@pytest.fixture(scope="module")
def measured() -> dict[str, dict[str, Any]]:
    rows = load_corpus(CORPUS)
    return {split: score(r for r in rows if r.split == split) for split in ("dev", "test")}


def test_corpus_has_the_size_languages_and_channels_the_measurement_claims() -> None:
    rows = load_corpus(CORPUS)
    assert len([r for r in rows if r.pii]) >= 200
    assert len([r for r in rows if not r.pii]) >= 60
    assert len({r.language for r in rows}) >= 5
    assert {r.channel for r in rows} == {"chat", "email", "voice"}
    forms = {p.form for r in rows for p in r.pii if p.type == "NAME"}
    assert {"lower", "relative", "patient", "caps", "cyrillic", "signoff", "intro"} <= forms


@pytest.mark.parametrize(("split", "floor"), [("dev", 0.98), ("test", 0.92)])
def test_overall_recall_stays_above_its_floor(
    measured: dict[str, dict[str, Any]], split: str, floor: float
) -> None:
    assert measured[split]["recall"] >= floor, measured[split]["misses"]


@pytest.mark.parametrize(
    ("kind", "floor"),
    [
        ("NAME", 0.9),
        ("EMAIL", 1.0),
        ("PHONE", 1.0),
        ("CARD", 1.0),
        ("IBAN", 1.0),
        ("NATIONAL_ID", 1.0),
        ("ACCOUNT_ID", 1.0),
        ("ADDRESS", 1.0),
        ("DOB", 1.0),
        ("SPOKEN_DIGITS", 0.8),
    ],
)
def test_recall_per_entity_type_on_the_test_split(
    measured: dict[str, dict[str, Any]], kind: str, floor: float
) -> None:
    assert measured["test"]["recall_by_type"][kind]["recall"] >= floor


@pytest.mark.parametrize("split", ["dev", "test"])
def test_drug_names_order_numbers_and_doses_survive(measured: dict[str, dict[str, Any]], split: str) -> None:
    survival = measured[split]["keep_survival_by_type"]
    for kind in ("DRUG", "ORDER", "DOSE", "PRODUCT"):
        assert survival[kind]["recall"] == 1.0, measured[split]["false_positives"]
    assert measured[split]["false_positive_rate"] <= 0.01
