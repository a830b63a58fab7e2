"""The knowledge base must load strictly, retrieve the right policy and stay auditable."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from adapters.knowledge_base import (
    DEFAULT_MIN_SCORE,
    KnowledgeBase,
    KnowledgeMatch,
    parse_article,
)

ARTICLES_DIRECTORY = Path(__file__).resolve().parents[2] / "knowledge_base" / "articles"

VALID_ARTICLE = """---
id: kb-test-topic
version: 2
title: Test topic
keywords: alpha, beta gamma, Übersicht
updated: 2026-10-01
---
Some answer text about the alpha topic for a customer.
"""


def _write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def knowledge_base() -> KnowledgeBase:
    return KnowledgeBase.default()


def test_parse_article_reads_front_matter_and_body(tmp_path: Path) -> None:
    path = _write(tmp_path, "topic.md", VALID_ARTICLE)

    article = parse_article(path, path.read_text(encoding="utf-8"))

    assert article.id == "kb-test-topic"
    assert article.version == 2
    assert article.title == "Test topic"
    assert article.keywords == ("alpha", "beta gamma", "Übersicht")
    assert article.updated == "2026-10-01"
    assert article.body == "Some answer text about the alpha topic for a customer."


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("no front matter at all\n", "must start with"),
        ("---\nid: kb-x\nversion: 1\n", "not closed"),
        (VALID_ARTICLE.replace("title: Test topic\n", ""), "missing front-matter field"),
        (VALID_ARTICLE.replace("version: 2", "version: two"), "not an integer"),
        (VALID_ARTICLE.replace("version: 2", "version: 0"), "positive integer"),
        (VALID_ARTICLE.replace("updated: 2026-10-01", "updated: 01/10/2026"), "ISO date"),
        (VALID_ARTICLE.replace("id: kb-test-topic", "id: Test Topic"), "must look like"),
        (VALID_ARTICLE.replace("updated:", "owner: nobody\nupdated:"), "unknown front-matter"),
        (VALID_ARTICLE.replace("keywords: alpha,", "keywords: alpha,,"), "empty entry"),
        (VALID_ARTICLE.replace("title: Test topic", "title Test topic"), "field: value"),
        (VALID_ARTICLE.replace("title: Test topic", "title: A\ntitle: B"), "duplicate field"),
        (VALID_ARTICLE.split("---\nSome")[0] + "---\n\n", "body is empty"),
    ],
)
def test_bad_article_file_fails_the_load(tmp_path: Path, text: str, message: str) -> None:
    _write(tmp_path, "good.md", VALID_ARTICLE.replace("kb-test-topic", "kb-good"))
    _write(tmp_path, "bad.md", text)

    with pytest.raises(ValueError, match=message) as raised:
        KnowledgeBase.from_directory(tmp_path)
    assert "bad.md" in str(raised.value)


def test_duplicate_article_ids_are_rejected(tmp_path: Path) -> None:
    _write(tmp_path, "one.md", VALID_ARTICLE)
    _write(tmp_path, "two.md", VALID_ARTICLE)

    with pytest.raises(ValueError, match="duplicate article id"):
        KnowledgeBase.from_directory(tmp_path)


def test_empty_or_missing_directory_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"no \*\.md articles"):
        KnowledgeBase.from_directory(tmp_path)
    with pytest.raises(ValueError, match="does not exist"):
        KnowledgeBase.from_directory(tmp_path / "missing")


def test_shipped_articles_are_complete(knowledge_base: KnowledgeBase) -> None:
    articles = knowledge_base.articles

    assert 14 <= len(articles) <= 18
    assert len({article.id for article in articles}) == len(articles)
    for article in articles:
        assert 60 <= len(article.body.split()) <= 150, article.id
        assert len(article.keywords) >= 5, article.id


def test_default_is_loaded_once(knowledge_base: KnowledgeBase) -> None:
    assert KnowledgeBase.default() is knowledge_base


@pytest.mark.parametrize(
    ("question", "expected_id"),
    [
        # en
        ("When will I get my money back?", "kb-refunds"),
        ("Can I return a medicine I didn't open?", "kb-returns"),
        ("How much is delivery and how long does shipping take?", "kb-shipping"),
        ("Do you ship to France?", "kb-international-shipping"),
        ("Where is my order? My email is [EMAIL]", "kb-order-tracking"),
        ("What are your opening hours on Saturday?", "kb-opening-hours"),
        ("How do I upload my private prescription?", "kb-prescriptions"),
        ("I need to renew my repeat prescription", "kb-prescription-renewal"),
        ("Can I pay with PayPal or Apple Pay?", "kb-payment-methods"),
        ("Please delete all my personal data", "kb-privacy-data"),
        ("I forgot my password and cannot log in", "kb-account-password"),
        ("How should I dispose of old expired tablets?", "kb-medicine-disposal"),
        ("Does insulin need to be kept in the fridge?", "kb-medicine-storage"),
        ("Is a generic medicine the same as the brand?", "kb-generic-vs-brand"),
        ("I think I am getting side effects from my tablets", "kb-side-effects"),
        ("Can I speak to a pharmacist?", "kb-contact-pharmacist"),
        ("How do I cancel my order?", "kb-cancellation"),
        ("My parcel arrived damaged", "kb-delivery-issues"),
        # de
        ("Wann bekomme ich meine Rückerstattung?", "kb-refunds"),
        ("Wie hoch sind die Versandkosten?", "kb-shipping"),
        ("Wo ist meine Bestellung?", "kb-order-tracking"),
        ("Ich habe mein Passwort vergessen", "kb-account-password"),
        ("Wie kann ich meine Bestellung stornieren?", "kb-cancellation"),
        ("Ich möchte mein Rezept verlängern", "kb-prescription-renewal"),
        ("Wie entsorge ich abgelaufene Medikamente?", "kb-medicine-disposal"),
        # fr
        ("Je voudrais être remboursé", "kb-refunds"),
        ("Quels sont les frais de port ?", "kb-shipping"),
        ("Où est mon colis ?", "kb-order-tracking"),
        ("Comment annuler ma commande ?", "kb-cancellation"),
        ("J'ai oublié mon mot de passe", "kb-account-password"),
        ("Quels sont vos horaires d'ouverture ?", "kb-opening-hours"),
        # es
        ("¿Cuándo recibiré mi reembolso?", "kb-refunds"),
        ("¿Cuánto cuestan los gastos de envío?", "kb-shipping"),
        ("¿Dónde está mi pedido?", "kb-order-tracking"),
        ("Quiero cancelar mi pedido", "kb-cancellation"),
        ("Olvidé mi contraseña", "kb-account-password"),
        ("¿Puedo pagar con tarjeta?", "kb-payment-methods"),
    ],
)
def test_typical_questions_retrieve_the_right_article(
    knowledge_base: KnowledgeBase, question: str, expected_id: str
) -> None:
    matches = knowledge_base.search(question)

    assert matches, question
    assert matches[0].article_id == expected_id
    assert matches[0].score >= DEFAULT_MIN_SCORE


@pytest.mark.parametrize(
    "message",
    [
        "my cat likes jazz",
        "What will the weather be like tomorrow?",
        "Can you recommend a good restaurant in London?",
        "hello",
        "[EMAIL] [PHONE] [NAME]",
        "",
    ],
)
def test_unrelated_messages_score_below_the_threshold(knowledge_base: KnowledgeBase, message: str) -> None:
    matches = knowledge_base.search(message)

    assert all(match.score < DEFAULT_MIN_SCORE for match in matches)


def test_bracketed_placeholders_are_ignored(knowledge_base: KnowledgeBase) -> None:
    assert knowledge_base.search("[REFUND] [PASSWORD]") == []


def test_matches_are_best_first_bounded_and_carry_the_answer(
    knowledge_base: KnowledgeBase,
) -> None:
    matches = knowledge_base.search("parcel delivery refund order", limit=4)

    assert 1 <= len(matches) <= 4
    scores = [match.score for match in matches]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 < score < 1.0 for score in scores)
    top = matches[0]
    article = knowledge_base.get(top.article_id)
    assert article is not None
    assert top == KnowledgeMatch(
        article_id=article.id,
        article_version=article.version,
        title=article.title,
        score=top.score,
        answer=article.body,
    )


def test_limit_must_be_positive(knowledge_base: KnowledgeBase) -> None:
    with pytest.raises(ValueError, match="limit"):
        knowledge_base.search("refund", limit=0)


def test_version_is_a_stable_short_hash(tmp_path: Path, knowledge_base: KnowledgeBase) -> None:
    copy = tmp_path / "articles"
    shutil.copytree(ARTICLES_DIRECTORY, copy)

    assert re.fullmatch(r"[0-9a-f]{12}", knowledge_base.version)
    assert KnowledgeBase.from_directory(copy).version == knowledge_base.version
    assert KnowledgeBase.from_directory(copy).version == KnowledgeBase.from_directory(copy).version


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("We refund to the original payment method.", "We refund to your original card."),
        ("version: 3", "version: 4"),
        ("keywords: refund,", "keywords: refund, payback,"),
    ],
)
def test_version_changes_when_an_article_changes(
    tmp_path: Path, knowledge_base: KnowledgeBase, old: str, new: str
) -> None:
    copy = tmp_path / "articles"
    shutil.copytree(ARTICLES_DIRECTORY, copy)
    refunds = copy / "refunds.md"
    text = refunds.read_text(encoding="utf-8")
    assert old in text
    refunds.write_text(text.replace(old, new), encoding="utf-8")

    assert KnowledgeBase.from_directory(copy).version != knowledge_base.version
