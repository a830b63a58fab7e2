"""Versioned policy knowledge base with deterministic, LLM-free retrieval.

Informational answers must come from reviewed policy text, never from a model's imagination,
and the audit trail must be able to name exactly which article (and which version of it) was
sent. So the articles live as Markdown files with a front-matter block under
``knowledge_base/articles`` and are retrieved here with plain lexical scoring.

Scoring
-------
Text is lower-cased, unicode-normalised (NFKD, accents stripped), bracketed placeholders such
as ``[EMAIL]`` left by redaction are dropped, stop-words (en/de/fr/es/it/nl) and pure numbers
are removed and a light suffix stemmer is applied. Each article is scored with BM25F: the title
counts twice and the keywords three times as much as the body. A keyword phrase of two or more
words that appears verbatim in the question (``"where is my order"``) earns a fixed bonus, which
separates articles that share vocabulary.

The raw BM25 value grows with the number of matched terms and has no upper bound, so it is
mapped to ``score = raw / (raw + SCORE_HALF_POINT)``, a value in ``[0, 1)`` that does not depend
on the wording of other questions. With the shipped articles this gives roughly:

* ``0.0``: no shared term (``"my cat likes jazz"``, placeholders only);
* ``0.15-0.30``: one common word (``"order"``) or one distinctive word found only in a body;
* ``~0.40``: one distinctive keyword (``"Rückerstattung?"``, ``"Versandkosten"``);
* ``0.55-0.75``: two or more topic words or a keyword phrase (``"where is my order"``).

``DEFAULT_MIN_SCORE`` (``0.35``) is the recommended threshold for answering from the knowledge
base: one distinctive keyword is enough, an incidental common word is not. Below it a workflow
should hand over to a human instead of guessing.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from core.text import fold

DEFAULT_MIN_SCORE: float = 0.35
"""Recommended minimum ``KnowledgeMatch.score`` before an article is used as the answer."""

SCORE_HALF_POINT = 6.0
"""Raw BM25F value that maps to a normalised score of 0.5."""

_BM25_K1 = 1.2
_BM25_B = 0.75
_TITLE_WEIGHT = 2.0
_KEYWORD_WEIGHT = 3.0
_BODY_WEIGHT = 1.0
_PHRASE_BONUS = 2.0

_ARTICLE_ID_PATTERN = re.compile(r"^kb-[a-z0-9]+(?:-[a-z0-9]+)*$")
_REQUIRED_FIELDS = ("id", "version", "title", "keywords", "updated")
_FRONT_MATTER_DELIMITER = "---"
_PLACEHOLDER_PATTERN = re.compile(r"\[[^\[\]]*\]")
_WORD_PATTERN = re.compile(r"[a-z0-9]+")

# Suffixes are tried longest first; one is removed per token when a stem of at least
# _MIN_STEM_LENGTH characters remains. Crude, but the same rule runs on articles and questions,
# so plural/verb forms in en/de/fr/es meet on a shared stem.
_SUFFIXES = tuple(
    sorted(
        (
            "ations",
            "ation",
            "ements",
            "ement",
            "ments",
            "ment",
            "ings",
            "ing",
            "ungen",
            "ung",
            "ies",
            "ied",
            "ed",
            "es",
            "ez",
            "en",
            "ly",
            "os",
            "as",
            "s",
            "e",
            "y",
            "o",
            "a",
        ),
        key=len,
        reverse=True,
    )
)
_MIN_STEM_LENGTH = 4

_STOP_WORDS_BY_LANGUAGE = {
    "en": (
        "a about after again all also am an and any are as at be been before being but by can "
        "could did do does doing for from had has have having he her here hers him his how i if "
        "in into is it its just me more most my no nor not now of off on once only or other our "
        "ours out over own please same she should so some such than thank thanks that the their "
        "them then there these they this those to too under until up very was we were what when "
        "where which while who whom why will with would you your yours hi hello dear regards "
        "hey ok okay get got want wanted like need know tell let still yet already much many one "
        "didn don doesn isn wasn won haven hasn couldn wouldn shouldn aren weren ve ll re"
    ),
    "de": (
        "aber alle als am an auch auf aus bei bin bis bitte da dann das dass dem den der des die "
        "dies diese dir doch du ein eine einem einen einer es für hallo hat habe haben ich ihr "
        "ihre im in ist ja kann kein keine können man mein meine meinen meiner mich mir mit nach "
        "nicht noch nur oder schon sehr sein seine sie sind so über um und uns von vor war wann "
        "warum was weil wenn wer wie wir wird wo zu zum zur danke möchte gerne gern"
    ),
    "fr": (
        "au aux avec bonjour ce ces cette dans de des du elle en est et être eu il ils je la le "
        "les leur lui ma mais me merci mes moi mon ne nous on ou où par pas pour qu que qui sa "
        "se ses son sur ta te tes toi ton tu un une vos votre vous comment quand quel quelle"
    ),
    "es": (
        "al algo como con cual cuando de del el ella ellos en es esta este esto gracias hola la "
        "las le les lo los me mi mis muy no nos o para pero por que qué se si sin su sus te "
        "tengo ti tu un una unos y ya yo dónde donde está"
    ),
    "it": "il lo gli della di che per non sono ho mio mia",
    "nl": "het een van ik je mijn niet wat waar",
}


@dataclass(frozen=True)
class KnowledgeArticle:
    """One reviewed policy article as stored on disk."""

    id: str
    version: int
    title: str
    keywords: tuple[str, ...]
    body: str
    updated: str


@dataclass(frozen=True)
class KnowledgeMatch:
    """A retrieved article with the evidence the audit trail records."""

    article_id: str
    article_version: int
    title: str
    score: float
    answer: str


@dataclass(frozen=True)
class _IndexedArticle:
    """Pre-computed term statistics so a search costs one pass over the articles."""

    article: KnowledgeArticle
    weighted_term_frequencies: dict[str, float]
    weighted_length: float
    keyword_phrases: tuple[tuple[str, ...], ...]


def _fold(text: str) -> str:
    """Lower-case and strip accents so "Rückerstattung" and "ruckerstattung" are one word."""
    return fold(text)


def _stem(word: str) -> str:
    """Remove at most one common inflection suffix (en/de/fr/es), keeping a usable stem."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= _MIN_STEM_LENGTH:
            stem = word[: -len(suffix)]
            # "shipping" -> "shipp" -> "ship", so it meets "ship" and "shipped".
            if len(stem) > _MIN_STEM_LENGTH and stem[-1] == stem[-2] and stem[-1] not in "ls":
                stem = stem[:-1]
            return stem
    return word


def _words(text: str) -> list[str]:
    """Folded words with placeholders removed; stop-words are kept for phrase matching."""
    without_placeholders = _PLACEHOLDER_PATTERN.sub(" ", text)
    return _WORD_PATTERN.findall(_fold(without_placeholders))


def _phrase_tokens(text: str) -> tuple[str, ...]:
    """Stemmed words including stop-words, the unit for verbatim keyword phrase matches."""
    return tuple(_stem(word) for word in _words(text) if not word.isdigit())


_FOLDED_STOP_WORDS = frozenset(
    _fold(word) for words in _STOP_WORDS_BY_LANGUAGE.values() for word in words.split()
)


def tokenize(text: str) -> list[str]:
    """Search terms for ``text``: folded, stop-words and numbers removed, stemmed."""
    return [
        _stem(word)
        for word in _words(text)
        if word not in _FOLDED_STOP_WORDS and not word.isdigit() and len(word) > 1
    ]


def _parse_front_matter(source: Path, text: str) -> tuple[dict[str, str], str]:
    """Split a Markdown file into its front-matter fields and its body."""
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != _FRONT_MATTER_DELIMITER:
        raise ValueError(f"{source}: must start with a '---' front-matter line")
    try:
        closing_index = next(
            index for index, line in enumerate(lines[1:], start=1) if line.strip() == _FRONT_MATTER_DELIMITER
        )
    except StopIteration:
        raise ValueError(f"{source}: front matter is not closed with '---'") from None
    fields: dict[str, str] = {}
    for line_number, line in enumerate(lines[1:closing_index], start=2):
        if not line.strip():
            continue
        name, separator, value = line.partition(":")
        name = name.strip()
        if not separator or not name:
            raise ValueError(f"{source}:{line_number}: expected 'field: value', got {line!r}")
        if name in fields:
            raise ValueError(f"{source}:{line_number}: duplicate field {name!r}")
        fields[name] = value.strip()
    body = "\n".join(lines[closing_index + 1 :]).strip()
    return fields, body


def parse_article(source: Path, text: str) -> KnowledgeArticle:
    """Validate one article file; any defect is a ValueError naming the file."""
    fields, body = _parse_front_matter(source, text)
    missing = [name for name in _REQUIRED_FIELDS if not fields.get(name)]
    if missing:
        raise ValueError(f"{source}: missing front-matter field(s): {', '.join(missing)}")
    unknown = sorted(set(fields) - set(_REQUIRED_FIELDS))
    if unknown:
        raise ValueError(f"{source}: unknown front-matter field(s): {', '.join(unknown)}")
    article_id = fields["id"]
    if not _ARTICLE_ID_PATTERN.match(article_id):
        raise ValueError(f"{source}: id {article_id!r} must look like 'kb-some-topic'")
    try:
        version = int(fields["version"])
    except ValueError:
        raise ValueError(f"{source}: version {fields['version']!r} is not an integer") from None
    if version < 1:
        raise ValueError(f"{source}: version must be a positive integer, got {version}")
    try:
        date.fromisoformat(fields["updated"])
    except ValueError:
        raise ValueError(f"{source}: updated {fields['updated']!r} is not an ISO date (YYYY-MM-DD)") from None
    keywords = tuple(keyword.strip() for keyword in fields["keywords"].split(","))
    if not all(keywords):
        raise ValueError(f"{source}: keywords contain an empty entry")
    if not tokenize(body):
        raise ValueError(f"{source}: the answer body is empty")
    return KnowledgeArticle(
        id=article_id,
        version=version,
        title=fields["title"],
        keywords=keywords,
        body=body,
        updated=fields["updated"],
    )


def _index_article(article: KnowledgeArticle) -> _IndexedArticle:
    """Weighted term counts per field (BM25F) plus the multi-word keyword phrases."""
    frequencies: dict[str, float] = {}
    for weight, text in (
        (_TITLE_WEIGHT, article.title),
        (_KEYWORD_WEIGHT, " ".join(article.keywords)),
        (_BODY_WEIGHT, article.body),
    ):
        for term in tokenize(text):
            frequencies[term] = frequencies.get(term, 0.0) + weight
    phrases = tuple(
        tokens for tokens in (_phrase_tokens(keyword) for keyword in article.keywords) if len(tokens) >= 2
    )
    return _IndexedArticle(
        article=article,
        weighted_term_frequencies=frequencies,
        weighted_length=sum(frequencies.values()),
        keyword_phrases=phrases,
    )


def _contains_phrase(tokens: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    """True when ``phrase`` occurs as a contiguous run inside ``tokens``."""
    width = len(phrase)
    return any(tokens[start : start + width] == phrase for start in range(len(tokens) - width + 1))


class KnowledgeBase:
    """An immutable set of articles with a BM25F index built once at load time."""

    def __init__(self, articles: list[KnowledgeArticle] | tuple[KnowledgeArticle, ...]) -> None:
        if not articles:
            raise ValueError("a knowledge base needs at least one article")
        seen: set[str] = set()
        for article in articles:
            if article.id in seen:
                raise ValueError(f"duplicate article id {article.id!r}")
            seen.add(article.id)
        self._articles = tuple(sorted(articles, key=lambda article: article.id))
        self._indexed = tuple(_index_article(article) for article in self._articles)
        self._average_length = sum(item.weighted_length for item in self._indexed) / len(self._indexed)
        document_frequency: Counter[str] = Counter()
        for item in self._indexed:
            document_frequency.update(item.weighted_term_frequencies.keys())
        count = len(self._indexed)
        self._idf = {
            term: math.log(1.0 + (count - frequency + 0.5) / (frequency + 0.5))
            for term, frequency in document_frequency.items()
        }
        self._version = self._content_hash()

    @classmethod
    def from_directory(cls, path: Path) -> KnowledgeBase:
        """Load every ``*.md`` article in ``path``; a bad file fails the whole load."""
        if not path.is_dir():
            raise ValueError(f"{path}: knowledge base directory does not exist")
        files = sorted(path.glob("*.md"))
        if not files:
            raise ValueError(f"{path}: no *.md articles found")
        return cls([parse_article(file, file.read_text(encoding="utf-8")) for file in files])

    @classmethod
    def default(cls) -> KnowledgeBase:
        """The articles shipped with the repository, loaded once per process."""
        return _load_default()

    @property
    def articles(self) -> tuple[KnowledgeArticle, ...]:
        """All articles, ordered by id."""
        return self._articles

    @property
    def version(self) -> str:
        """Content hash naming this exact set of articles in the audit trail."""
        return self._version

    def get(self, article_id: str) -> KnowledgeArticle | None:
        """Look an article up by id, e.g. to re-render an answer recorded earlier."""
        return next((article for article in self._articles if article.id == article_id), None)

    def search(self, text: str, limit: int = 3) -> list[KnowledgeMatch]:
        """Best-matching articles first; articles sharing no term with ``text`` are omitted."""
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        query_terms = set(tokenize(text))
        if not query_terms:
            return []
        query_phrase_tokens = _phrase_tokens(text)
        scored: list[tuple[float, str, KnowledgeArticle]] = []
        for item in self._indexed:
            raw = self._bm25f(query_terms, item)
            if raw <= 0.0:
                continue
            raw += _PHRASE_BONUS * sum(
                1 for phrase in item.keyword_phrases if _contains_phrase(query_phrase_tokens, phrase)
            )
            scored.append((raw / (raw + SCORE_HALF_POINT), item.article.id, item.article))
        scored.sort(key=lambda entry: (-entry[0], entry[1]))
        return [
            KnowledgeMatch(
                article_id=article.id,
                article_version=article.version,
                title=article.title,
                score=round(score, 4),
                answer=article.body,
            )
            for score, _, article in scored[:limit]
        ]

    def _bm25f(self, query_terms: set[str], item: _IndexedArticle) -> float:
        """BM25 over the field-weighted term frequencies of one article."""
        length_norm = 1.0 - _BM25_B + _BM25_B * item.weighted_length / self._average_length
        total = 0.0
        for term in query_terms:
            frequency = item.weighted_term_frequencies.get(term, 0.0)
            if frequency:
                saturation = frequency * (_BM25_K1 + 1.0) / (frequency + _BM25_K1 * length_norm)
                total += self._idf[term] * saturation
        return total

    def _content_hash(self) -> str:
        """sha256 over the articles sorted by id, first 12 hex digits.

        Each article contributes ``id:version``, its body, and also its title and keywords,
        because those change which article a question retrieves.
        """
        digest = hashlib.sha256()
        for article in self._articles:
            for part in (
                f"{article.id}:{article.version}",
                article.title,
                ",".join(article.keywords),
                article.body,
            ):
                digest.update(part.encode("utf-8"))
                digest.update(b"\x00")
            digest.update(b"\x1e")
        return digest.hexdigest()[:12]


_REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
_DEFAULT_ARTICLES_DIRECTORY = _REPOSITORY_ROOT / "knowledge_base" / "articles"


@lru_cache(maxsize=1)
def _load_default() -> KnowledgeBase:
    """Parse the shipped articles once; they only change with a deploy."""
    return KnowledgeBase.from_directory(_DEFAULT_ARTICLES_DIRECTORY)
