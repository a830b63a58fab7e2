"""The guard's pattern tables are reviewable data: every entry says what it stands for, where it
came from, and carries a positive and a negative example that the pattern must tell apart."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from classifier.safety_guard import DATA_DIR, KINDS, entry_pattern, load_tables
from core.text import fold

LANGUAGES = {"en", "de", "fr", "es", "it", "pt", "nl", "pl"}
SIGNALS = {
    "adverse_reaction",
    "overdose",
    "accidental_ingestion",
    "self_harm",
    "wrong_product",
    "product_defect",
    "tampered_product",
    "counterfeit",
    "expired_product",
    "dispensing_error",
    "hospitalisation",
    "death",
    "pregnancy_exposure",
    "clinical_adverse_event",
}
PATTERNS_DOC: dict[str, Any] = yaml.safe_load((DATA_DIR / "guard_patterns.yaml").read_text(encoding="utf-8"))
CONTEXT_DOC: dict[str, Any] = yaml.safe_load((DATA_DIR / "guard_context.yaml").read_text(encoding="utf-8"))
ENTRIES: list[dict[str, Any]] = PATTERNS_DOC["patterns"]
CONTEXT_ENTRIES = [
    (name, item) for name, block in CONTEXT_DOC["context"].items() for item in block["patterns"]
]
TEST_SET = Path(__file__).resolve().parents[2] / "eval" / "data" / "test.jsonl"


def _id(entry: dict[str, Any]) -> str:
    return f"{entry['language']}-{entry['signal']}-{entry_pattern(entry)[:40]}"


@pytest.mark.parametrize("entry", ENTRIES, ids=_id)
def test_every_pattern_tells_its_positive_from_its_negative(entry: dict[str, Any]) -> None:
    pattern = re.compile(entry_pattern(entry))
    assert pattern.search(fold(entry["positive"])), entry["positive"]
    assert not pattern.search(fold(entry["negative"])), entry["negative"]


@pytest.mark.parametrize("entry", ENTRIES, ids=_id)
def test_every_pattern_says_what_it_stands_for_and_where_it_came_from(entry: dict[str, Any]) -> None:
    assert entry["signal"] in SIGNALS
    assert entry["language"] in LANGUAGES
    assert entry.get("kind", "signal") in KINDS
    assert entry["source"].strip()
    assert set(entry["dev_rows_matched"]) == {"safety", "other"}


@pytest.mark.parametrize(("name", "item"), CONTEXT_ENTRIES, ids=lambda v: v if isinstance(v, str) else "")
def test_every_context_pattern_tells_its_positive_from_its_negative(name: str, item: dict[str, Any]) -> None:
    pattern = re.compile(item["pattern"])
    assert pattern.search(fold(item["positive"])), (name, item["positive"])
    assert not pattern.search(fold(item["negative"])), (name, item["negative"])


def test_every_context_table_says_what_it_means_and_where_it_came_from() -> None:
    for name, block in CONTEXT_DOC["context"].items():
        assert block["meaning"].strip() and block["source"].strip(), name


def test_no_example_is_taken_from_the_held_out_test_set() -> None:
    held_out = [fold(json.loads(line)["text"]) for line in TEST_SET.read_text(encoding="utf-8").splitlines()]
    examples = [fold(e[key]) for e in ENTRIES for key in ("positive", "negative")]
    examples += [fold(item[key]) for _, item in CONTEXT_ENTRIES for key in ("positive", "negative")]
    leaked = [
        example for example in examples if len(example) > 25 and any(example in row for row in held_out)
    ]
    assert leaked == []


def test_removed_patterns_record_why_and_are_not_loaded() -> None:
    loaded = {rule.pattern.pattern for rule in load_tables().rules}
    for removed in PATTERNS_DOC["removed"]:
        assert removed["reason"].strip()
        assert removed["pattern"] not in loaded


def test_every_language_has_symptom_overdose_and_hospitalisation_patterns() -> None:
    for language in LANGUAGES:
        signals = {e["signal"] for e in ENTRIES if e["language"] == language}
        assert {"adverse_reaction", "overdose", "hospitalisation", "self_harm"} <= signals, language
