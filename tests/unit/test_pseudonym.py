"""customer_id pseudonyms: keyed, deterministic, not reversible without the key, local key 0600."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from core.config import Settings
from core.pseudonym import PSEUDONYM_PREFIX, Pseudonymiser, load_key, pseudonymise_customer_id


def test_same_id_and_key_give_the_same_pseudonym_and_other_keys_another() -> None:
    first, second = Pseudonymiser(b"k" * 32), Pseudonymiser(b"q" * 32)
    assert first("CRM-0042") == first("CRM-0042")
    assert first("CRM-0042") != first("CRM-0043")
    assert first("CRM-0042") != second("CRM-0042")
    assert first("CRM-0042").startswith(PSEUDONYM_PREFIX)
    assert "0042" not in first("CRM-0042")


def test_a_value_shaped_like_a_pseudonym_is_hashed_too() -> None:
    pseudonymise = Pseudonymiser(b"k" * 32)
    chosen = pseudonymise("victim")
    assert pseudonymise(chosen) != chosen


def test_local_key_is_created_once_with_owner_only_permissions(tmp_path: Path) -> None:
    settings = Settings(pseudonym_key=None, pseudonym_key_file=tmp_path / "keys" / "pseudonym.key")
    key = load_key(settings)
    assert len(key) == 32
    assert stat.S_IMODE(settings.pseudonym_key_file.stat().st_mode) == 0o600
    assert load_key(settings) == key


def test_configured_key_wins_and_short_keys_are_refused(tmp_path: Path) -> None:
    settings = Settings(pseudonym_key="a-configured-secret-key", pseudonym_key_file=tmp_path / "unused")
    assert load_key(settings) == b"a-configured-secret-key"
    assert not settings.pseudonym_key_file.exists()
    assert pseudonymise_customer_id("CRM-1", settings) == Pseudonymiser(b"a-configured-secret-key")("CRM-1")
    assert pseudonymise_customer_id(None, settings) is None
    with pytest.raises(ValueError, match="16"):
        load_key(Settings(pseudonym_key="short", pseudonym_key_file=tmp_path / "unused"))
