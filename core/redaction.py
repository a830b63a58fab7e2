"""PII redaction applied before customer text reaches the LLM, the logs or workflow history.

Raw text stops at the API: everything downstream sees typed placeholders ("[EMAIL]",
"[PHONE]", "[NAME]", ...) so the classifier still knows *that* a phone number was given
without seeing it. Order and ticket numbers, drug names, doses and plain dates are kept on
purpose: service workflows need them.

Detectors, most specific first (a later one never takes text an earlier one claimed):
- Presidio's pattern recognizers (used without an NLP engine) for e-mail, card (Luhn), IBAN
  (mod-97), IP addresses and UK National Insurance numbers;
- `python-stdnum` checksums for national identifiers (BSN, PESEL, Steuer-ID, NIR, DNI/NIE,
  codice fiscale, CPF, NHS, SSN); weak checksums count only after an identifier keyword;
- `phonenumbers` (PhoneNumberMatcher over the regions we serve) for phone numbers;
- spoken digit runs in voice transcripts ("four one five ..."), vocabulary from `num2words`;
- keyword context for customer/account numbers, dates of birth and passports/ID cards;
- street-address patterns;
- names: cue phrases ("my name is", "my son Tom", "Patient:", sign-offs, capital signatures)
  checked against a given-name/surname gazetteer extracted from `names-dataset`
  (core/data/, see scripts/build_name_gazetteer.py), with drug names from
  `drug-named-entity-recognition` and words followed by a dose never taken for names.
The cue phrases and keywords are data in core/data/pii_cues.yaml. Placeholders contain no digits
and are never re-detected, which makes redaction idempotent. Recall per entity type is measured
by `python -m eval pii` on eval/data/pii-corpus.jsonl (docs/compliance.md).
"""

from __future__ import annotations

import bz2
import importlib
import importlib.resources
import itertools
import pickle
import re
import threading
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import phonenumbers
import yaml
from stdnum import luhn
from stdnum.br import cpf
from stdnum.de import idnr
from stdnum.es import dni, nie
from stdnum.fr import nir
from stdnum.gb import nhs
from stdnum.it import codicefiscale
from stdnum.nl import bsn
from stdnum.pl import pesel
from stdnum.us import ssn

from core.text import strip_accents

__all__ = ["PLACEHOLDER", "RedactionResult", "redact", "warm_up"]

_DATA = Path(__file__).resolve().parent / "data"
PLACEHOLDER = re.compile(r"\[[A-Z_]+\]")


@dataclass(frozen=True)
class RedactionResult:
    """Redacted text plus how many replacements of each kind were made (for audit metrics)."""

    text: str
    counts: dict[str, int]


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    kind: str


# Overlaps go to the more specific kind: a card inside "customer number ..." stays a card.
_PRIORITY = ("EMAIL", "IBAN", "CARD", "NATIONAL_ID", "ACCOUNT_ID", "IP", "DOB", "PHONE", "ADDRESS", "NAME")


# --------------------------------------------------------------------------- data


def _fold(word: str) -> str:
    return strip_accents(word.casefold())


def _alternation(phrases: Iterable[str]) -> str:
    """Phrases from the cue file as one regex alternation; spaces match any whitespace."""
    ordered = sorted(set(phrases), key=len, reverse=True)
    return "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in ordered)


def _words_file(name: str) -> frozenset[str]:
    lines = (_DATA / name).read_text(encoding="utf-8").splitlines()
    return frozenset(_fold(line) for line in lines if line and not line.startswith("#"))


@dataclass(frozen=True)
class _Lexicon:
    given: frozenset[str]
    surnames: frozenset[str]
    stop: frozenset[str]
    drugs: frozenset[str]
    digit_words: dict[str, str]
    cues: dict[str, Any]


def _spacy_stop_words(languages: Iterable[str]) -> frozenset[str]:
    words: set[str] = set()
    for lang in languages:
        module = importlib.import_module(f"spacy.lang.{lang}.stop_words")
        words |= {_fold(w) for w in module.STOP_WORDS}
    return frozenset(words)


def _drug_words() -> frozenset[str]:
    """Single words of every drug name variant in drug-named-entity-recognition's dictionary."""
    resource = importlib.resources.files("drug_named_entity_recognition") / "drug_ner_dictionary.pkl.bz2"
    with resource.open("rb") as raw, bz2.open(raw) as unpacked:
        dictionary = pickle.load(unpacked)
    words: set[str] = set()
    for variant in dictionary["drug_variant_to_canonical"]:
        tokens = re.findall(r"[^\W\d_]{4,}", variant)
        if len(tokens) == 1:
            words.add(_fold(tokens[0]))
    return frozenset(words)


def _spoken_digits(languages: Iterable[str], extra: dict[str, int]) -> dict[str, str]:
    from num2words import num2words  # type: ignore[import-untyped]

    words = {_fold(num2words(d, lang=lang)): str(d) for lang in languages for d in range(10)}
    words.update({_fold(w): str(d) for w, d in extra.items()})
    return words


@cache
def _lexicon() -> _Lexicon:
    cues = yaml.safe_load((_DATA / "pii_cues.yaml").read_text(encoding="utf-8"))
    languages = cues["languages"]
    stop = _spacy_stop_words(languages) | {_fold(w) for w in cues["not_names"]}
    return _Lexicon(
        given=_words_file("given_names.txt") - stop,
        surnames=_words_file("surnames.txt") - stop,
        stop=stop,
        drugs=_drug_words() | {_fold(w) for w in cues["products"]},
        digit_words=_spoken_digits(languages, cues["spoken_digit_extras"]),
        cues=cues,
    )


# --------------------------------------------------------------------------- library detectors


@cache
def _presidio() -> list[Any]:
    import tldextract
    from presidio_analyzer.predefined_recognizers import (
        CreditCardRecognizer,
        EmailRecognizer,
        IbanRecognizer,
        IpRecognizer,
        UkNinoRecognizer,
    )

    # tldextract's default fetches the public-suffix list; the snapshot it ships is enough here.
    offline_tld = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

    class OfflineEmailRecognizer(EmailRecognizer):
        def validate_result(self, pattern_text: str) -> bool:
            return bool(offline_tld(pattern_text).suffix)

    return [
        OfflineEmailRecognizer(),
        CreditCardRecognizer(),
        IbanRecognizer(),
        IpRecognizer(),
        UkNinoRecognizer(),
    ]


_PRESIDIO_KINDS = {
    "EMAIL_ADDRESS": "EMAIL",
    "CREDIT_CARD": "CARD",
    "IBAN_CODE": "IBAN",
    "IP_ADDRESS": "IP",
    "UK_NINO": "NATIONAL_ID",
}


def _presidio_spans(text: str) -> Iterator[_Span]:
    for recognizer in _presidio():
        for found in recognizer.analyze(text, recognizer.supported_entities, None):
            if found.score >= 0.5 or found.entity_type == "UK_NINO":
                yield _Span(found.start, found.end, _PRESIDIO_KINDS[found.entity_type])


# Strong checksums stand alone; weak ones (about 1 in 10 random numbers pass) need a keyword.
_STRONG_IDS: tuple[Callable[[str], bool], ...] = (
    dni.is_valid,
    nie.is_valid,
    # The 11-digit (company) form of a codice fiscale is only a Luhn check: persons have 16 chars.
    lambda value: len(value) == 16 and codicefiscale.is_valid(value),
    nir.is_valid,
)
_WEAK_IDS: tuple[Callable[[str], bool], ...] = (
    bsn.is_valid,
    pesel.is_valid,
    idnr.is_valid,
    cpf.is_valid,
    nhs.is_valid,
    ssn.is_valid,
)
_ID_CANDIDATE = re.compile(r"(?<![\w.-])(?:[A-Z0-9]{8,16}|\d{1,4}(?:[ .-]\d{1,4}){2,6})(?![\w-]|\.\d)")


_CARD_CANDIDATE = re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])")


def _card_spans(text: str, ctx: _Context) -> Iterator[_Span]:
    """Luhn-valid 13-19 digit numbers whose issuer prefix Presidio's card patterns do not list."""
    for match in _CARD_CANDIDATE.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if luhn.is_valid(digits) and not ctx.identifier.search(ctx.before(match.start())):
            yield _Span(match.start(), match.end(), "CARD")


def _national_id_spans(text: str, ctx: _Context) -> Iterator[_Span]:
    for match in _ID_CANDIDATE.finditer(text):
        value = match.group()
        if not any(c.isdigit() for c in value):
            continue
        before = ctx.before(match.start())
        strong = any(check(value) for check in _STRONG_IDS)
        weak = not strong and ctx.id_keyword.search(before) and any(check(value) for check in _WEAK_IDS)
        if (strong or weak) and not ctx.identifier.search(before):
            yield _Span(match.start(), match.end(), "NATIONAL_ID")
    for match in ctx.id_by_keyword.finditer(text):
        yield _Span(match.start("pii"), match.end("pii"), "NATIONAL_ID")


_PHONE_REGIONS = ("GB", "US", "DE", "FR", "ES", "IT", "NL", "PL", "PT", "BR", "RU", "AT", "CH", "BE", "IE")
_DATE_SHAPE = re.compile(r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}|\d{1,2}[./-]\d{4}")


def _phone_spans(text: str, ctx: _Context) -> Iterator[_Span]:
    seen: set[tuple[int, int]] = set()
    for region in _PHONE_REGIONS:
        for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
            span = (match.start, match.end)
            if span in seen:
                continue
            seen.add(span)
            raw, before = match.raw_string, ctx.before(match.start)
            if ctx.identifier.search(before) or _DATE_SHAPE.fullmatch(raw) or ctx.unit_after(match.end):
                continue
            # A bare digit run is an order or reference number unless it is introduced as a phone.
            international = raw.startswith(("+", "(+", "00"))
            if not international and raw.isdigit() and not ctx.phone_keyword.search(before):
                continue
            yield _Span(match.start, match.end, "PHONE")
    # Fictional or unusual numbers that phonenumbers rejects, when the customer says it is a phone.
    for keyword_match in ctx.phone_by_keyword.finditer(text):
        number = keyword_match.group("pii")
        if 7 <= sum(c.isdigit() for c in number) <= 15 and not ctx.unit_after(keyword_match.end("pii")):
            yield _Span(keyword_match.start("pii"), keyword_match.end("pii"), "PHONE")


# --------------------------------------------------------------------------- context detectors


@dataclass(frozen=True)
class _Context:
    """The compiled cue patterns of core/data/pii_cues.yaml, and the text they look at."""

    text: str
    identifier: re.Pattern[str]
    id_keyword: re.Pattern[str]
    id_by_keyword: re.Pattern[str]
    account_by_keyword: re.Pattern[str]
    phone_keyword: re.Pattern[str]
    phone_by_keyword: re.Pattern[str]
    dob: re.Pattern[str]
    dob_after: re.Pattern[str]
    address: re.Pattern[str]
    unit: re.Pattern[str]

    def before(self, index: int, width: int = 48) -> str:
        return self.text[max(0, index - width) : index]

    def unit_after(self, index: int) -> bool:
        return bool(self.unit.match(self.text, index))


@cache
def _patterns() -> dict[str, re.Pattern[str]]:
    cues = _lexicon().cues
    tail = r"(?:\s*(?:number|no\.?|nr\.?|n[°º]\.?|num(?:ber|mer|[ée]ro)?|nummer|номер|id|code|#))*"
    # "es"/"-" must stand alone: "cliente ES-773104" keeps its prefix inside the value.
    verb = r"(?:\s*(?:(?:is|ist|est|es|è|é|это)(?=\s)|[:=]|-(?=\s)))*\s*"
    identifier = _alternation(cues["business_identifier_keywords"])
    id_keywords = _alternation(cues["national_id_keywords"])
    accounts = _alternation(cues["account_keywords"])
    phones = _alternation(cues["phone_keywords"])
    months = _alternation(cues["months"])
    date = (
        r"(?:\d{1,2}[./-]\d{1,2}[./-](?:\d{4}|\d{2})(?!\d)|\d{4}[./-]\d{1,2}[./-]\d{1,2}(?!\d)"
        rf"|\d{{1,2}}(?:st|nd|rd|th|er|º|\.)?\s+(?:de\s+|of\s+)?(?:{months})\.?\s*,?\s+(?:de\s+)?\d{{4}}"
        rf"|(?:{months})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}})"
    )
    streets = cues["address_patterns"]
    postcode = cues["address_postcode_tail"]
    return {
        "identifier": re.compile(rf"(?i:\b(?:{identifier})\w*\.?{tail}{verb}#?\s*)$"),
        "id_keyword": re.compile(rf"(?i:\b(?:{id_keywords}))"),
        "id_by_keyword": re.compile(
            rf"(?i:\b(?:{id_keywords})[\w-]*{tail}{verb})"
            r"(?P<pii>(?:[A-Z]{1,2}[ -])?[A-Z0-9]*\d[A-Z0-9]*(?:[ -](?:[A-Z0-9]*\d[A-Z0-9]*|[A-Z]\b))*)"
        ),
        "account_by_keyword": re.compile(
            rf"(?i:\b(?:{accounts})\w*{tail}{verb}#?\s*)(?P<pii>[A-Z]{{0,4}}[- ]?\d(?:[\d -]*\d)?)"
        ),
        "phone_keyword": re.compile(rf"(?i:\b(?:{phones})\b\.?{tail}(?:\s*(?:on|at|is|:|-))*\s*)$"),
        "phone_by_keyword": re.compile(
            rf"(?i:\b(?:{phones})\b\.?{tail}(?:\s*(?:on|at|is|ist|est|es|è|é|:|-))*\s*)"
            r"(?P<pii>\+?\(?\d[\d ()./-]{5,}\d)"
        ),
        "dob": re.compile(
            rf"(?i:(?<![\w.])(?:{_alternation(cues['dob_keywords'])}){verb})(?P<pii>(?i:{date}))"
        ),
        "dob_after": re.compile(rf"(?i:\bam\s+)(?P<pii>(?i:{date}))(?=\s+(?i:geboren)\b)"),
        "address": re.compile("(?:" + "|".join(streets) + ")" + postcode),
        "unit": re.compile(r"(?i:\s?(?:mg|mcg|µg|ug|ml|g|kg|iu|ie|units?|tablets?|pills?|%|€|eur|\$|£)\b)"),
    }


def _context(text: str) -> _Context:
    return _Context(text=text, **_patterns())


def _keyword_spans(text: str, ctx: _Context) -> Iterator[_Span]:
    for match in ctx.account_by_keyword.finditer(text):
        if sum(c.isdigit() for c in match.group("pii")) >= 4:
            yield _Span(match.start("pii"), match.end("pii"), "ACCOUNT_ID")
    for pattern in (ctx.dob, ctx.dob_after):
        for match in pattern.finditer(text):
            yield _Span(match.start("pii"), match.end("pii"), "DOB")
    for match in ctx.address.finditer(text):
        yield _Span(match.start(), match.end(), "ADDRESS")


_TOKEN = re.compile(r"[^\W_]+")


def _spoken_digit_spans(text: str, ctx: _Context) -> Iterator[_Span]:
    """Runs of spoken digits ("four one five, five five five ...") in any served language."""
    lexicon = _lexicon()
    repeat = {_fold(w): n for w, n in lexicon.cues["spoken_digit_repeats"].items()}
    run: list[re.Match[str]] = []
    digits, spoken = "", 0

    def flush() -> Iterator[_Span]:
        if run and spoken >= 3 and len(digits) >= 5:
            start, end, before = run[0].start(), run[-1].end(), ctx.before(run[0].start())
            if 13 <= len(digits) <= 19 and luhn.is_valid(digits):
                yield _Span(start, end, "CARD")
            elif ctx.account_by_keyword.search(before + "1234") or re.search(r"(?i)\bcustomer\b", before):
                yield _Span(start, end, "ACCOUNT_ID")
            elif not ctx.identifier.search(before):
                yield _Span(start, end, "PHONE")

    pending_repeat = 1
    previous_end = -1
    for token in _TOKEN.finditer(text):
        word = _fold(token.group())
        gap = text[previous_end : token.start()] if previous_end >= 0 else ""
        joined = previous_end >= 0 and re.fullmatch(r"[\s,.;-]*", gap) is not None
        value = lexicon.digit_words.get(word) or (word if word.isdigit() and len(word) <= 4 else None)
        if word in repeat:
            if not joined:
                yield from flush()
                run, digits, spoken = [], "", 0
            pending_repeat = repeat[word]
            run.append(token)
        elif value is not None:
            if not joined and run:
                yield from flush()
                run, digits, spoken = [], "", 0
            digits += value * pending_repeat
            spoken += 0 if word.isdigit() else 1
            pending_repeat = 1
            run.append(token)
        else:
            yield from flush()
            run, digits, spoken, pending_repeat = [], "", 0, 1
        previous_end = token.end()
    yield from flush()


# --------------------------------------------------------------------------- names

_WORD = re.compile(r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*")
_DOSE_AFTER = re.compile(r"(?i:\s*\d+(?:[.,]\d+)?\s?(?:mg|mcg|µg|ug|ml|g|iu|ie|%)\b)")


@cache
def _name_patterns() -> dict[str, re.Pattern[str]]:
    cues = _lexicon().cues
    names = cues["names"]
    gap = r"[ \t]*[,:]?[ \t]*(?:\n[ \t]*)?"
    titles = _alternation(names["titles"])
    return {
        "strong": re.compile(rf"(?i:\b(?:{_alternation(names['strong_cues'])})){gap}(?:(?:{titles})\.?\s+)?"),
        "relative": re.compile(rf"(?i:\b(?:{_alternation(names['relative_cues'])})){gap}"),
        "intro": re.compile(rf"(?i:\b(?:{_alternation(names['intro_cues'])})){gap}"),
        "greeting": re.compile(rf"(?i:\b(?:{_alternation(names['greeting_cues'])}))[ \t]*,?[ \t]*"),
        "title": re.compile(rf"(?i:\b(?:{titles}))\.?[ \t]+(?=[A-ZÀ-ÞА-ЯЁ])"),
        "trailing_intro": re.compile(rf"(?i:[ \t]+(?:{_alternation(names['trailing_intro_cues'])})\b)"),
        "sign_off": re.compile(
            rf"(?:^|(?<=[.!?,;])\s)[ \t]*(?i:{_alternation(names['sign_offs'])})[ \t]*[,!.]?[ \t]*"
            r"(?:\n[ \t]*){0,2}[-\u2013\u2014]?[ \t]*",
            re.MULTILINE,
        ),
    }


def _is_capitalised(word: str) -> bool:
    return (word[:1].isupper() and not word.isupper()) or (len(word) > 1 and word.isupper())


class _NameFinder:
    """Candidate name words after a cue, checked against the gazetteer and the drug list."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lex = _lexicon()

    def blocked(self, word: re.Match[str]) -> bool:
        folded = _fold(word.group())
        if folded in self.lex.stop or folded in self.lex.drugs or len(folded) < 2:
            return True
        # "This is Lisinopril 10mg": a word followed by a dose is a product, whatever the lists say.
        return bool(_DOSE_AFTER.match(self.text, word.end()))

    def words_from(self, index: int, limit: int = 4) -> list[re.Match[str]]:
        """Consecutive words from `index`, separated by single spaces only."""
        words: list[re.Match[str]] = []
        position = index
        while len(words) < limit:
            match = _WORD.match(self.text, position)
            if match is None:
                break
            words.append(match)
            following = re.match(r"[ \t]", self.text[match.end() : match.end() + 1])
            if following is None:
                break
            position = match.end() + 1
        return words

    def is_given(self, word: str) -> bool:
        return _fold(word) in self.lex.given

    def is_surname(self, word: str) -> bool:
        return _fold(word) in self.lex.surnames

    def name_at(self, index: int, cue: str) -> _Span | None:
        """The name starting at `index`, if the first word qualifies; extended by surname words."""
        words = self.words_from(index)
        if not words or self.blocked(words[0]):
            return None
        first = words[0].group()
        capital = _is_capitalised(first)
        known = self.is_given(first) or (capital and self._surname_follows(words))
        accepted = {
            "strong": known or capital,
            "intro": known,
            "greeting": capital and known,
        }
        if not accepted[cue]:
            return None
        end = words[0].end()
        particles = {_fold(p) for p in self.lex.cues["names"]["particles"]}
        for word in words[1:]:
            text = word.group()
            if _fold(text) in particles:
                continue
            if self.blocked(word) or not (
                (capital and _is_capitalised(text)) or self.is_surname(text) or self.is_given(text)
            ):
                break
            end = word.end()
        return _Span(words[0].start(), end, "NAME")

    def _surname_follows(self, words: list[re.Match[str]]) -> bool:
        return len(words) > 1 and _is_capitalised(words[1].group()) and self.is_surname(words[1].group())


def _name_spans(text: str) -> Iterator[_Span]:
    finder = _NameFinder(text)
    patterns = _name_patterns()
    for pattern, cue in (
        ("strong", "strong"),
        ("relative", "strong"),
        ("title", "strong"),
        ("sign_off", "strong"),
        ("intro", "intro"),
        ("greeting", "greeting"),
    ):
        for match in patterns[pattern].finditer(text):
            span = finder.name_at(match.end(), cue)
            if span is None:
                continue
            if pattern == "sign_off" and text[span.end :].strip(" \t.!") and "\n" not in text[span.end :][:3]:
                continue  # a sign-off name ends the line
            yield span
    for match in patterns["trailing_intro"].finditer(text):
        # "tom baker here": the name is the one or two words right before the cue.
        before = list(_WORD.finditer(text, max(0, match.start() - 60), match.start()))[-2:]
        for word in before:
            span = finder.name_at(word.start(), "intro")
            if span is not None and span.end == match.start():
                yield span
                break
    yield from _uncued_names(text, finder)
    yield from _names_echoing_an_email(text, finder)


_SENTENCE_START_NAME = re.compile(r"(?:^|(?<=[.!?])\s+)(?P<name>[^\W\d_]+(?:[ \t][^\W\d_]+)?)[ \t]*,")
_EMAIL_LOCAL_PART = re.compile(r"([\w.+-]+)@[\w-]+(?:\.[\w-]+)+")


def _names_echoing_an_email(text: str, finder: _NameFinder) -> Iterator[_Span]:
    """ "... twice. Jane, jane@example.com": a clause-opening known given name followed by a comma,
    and any word that repeats a part of an e-mail address's local part (jane.doe@ -> "Jane")."""
    for match in _SENTENCE_START_NAME.finditer(text):
        span = finder.name_at(match.start("name"), "greeting")
        if span is not None and span.end == match.end("name"):
            yield span
    parts = {
        _fold(part)
        for local in _EMAIL_LOCAL_PART.findall(text)
        for part in re.split(r"[._+\d-]+", local)
        if len(part) >= 3
    }
    if not parts:
        return
    for word in _WORD.finditer(text):
        if (
            _fold(word.group()) in parts
            and not finder.blocked(word)
            and text[word.end() : word.end() + 1] != "@"
        ):
            if word.start() > 0 and text[word.start() - 1] in ".+_-":
                continue  # inside the address itself, which the e-mail recognizer takes whole
            yield _Span(word.start(), word.end(), "NAME")


def _uncued_names(text: str, finder: _NameFinder) -> Iterator[_Span]:
    """A known given name followed by a known surname, and capital signatures at the end."""
    words = list(_WORD.finditer(text))
    for first, second in itertools.pairwise(words):
        if text[first.end() : second.start()] not in (" ", "\t"):
            continue
        a, b = first.group(), second.group()
        if (
            _is_capitalised(a)
            and _is_capitalised(b)
            and finder.is_given(a)
            and finder.is_surname(b)
            and not finder.blocked(first)
            and not finder.blocked(second)
        ):
            yield _Span(first.start(), second.end(), "NAME")
    lines = [line for line in re.finditer(r"[^\n]+", text) if line.group().strip()]
    if len(lines) >= 2 or (lines and len(text) > 60):
        last = lines[-1]
        tokens = list(_WORD.finditer(last.group()))
        stripped = re.sub(r"[\s\-\u2013\u2014.,!]", "", last.group())
        if 1 <= len(tokens) <= 3 and stripped == "".join(t.group() for t in tokens):
            shifted = [_WORD.match(text, last.start() + t.start()) for t in tokens]
            all_caps = all(t.group().isupper() and len(t.group()) > 1 for t in tokens)
            known = finder.is_given(tokens[0].group()) and _is_capitalised(tokens[0].group())
            if (all_caps or known) and not any(m is None or finder.blocked(m) for m in shifted):
                yield _Span(last.start() + tokens[0].start(), last.start() + tokens[-1].end(), "NAME")


# --------------------------------------------------------------------------- engine


def _resolve(text: str, spans: Iterable[_Span]) -> list[_Span]:
    """Non-overlapping spans, the more specific kind and then the longer span first."""
    taken = [(m.start(), m.end()) for m in PLACEHOLDER.finditer(text)]
    kept: list[_Span] = []
    order = {kind: rank for rank, kind in enumerate(_PRIORITY)}
    for span in sorted(spans, key=lambda s: (order[s.kind], s.start - s.end, s.start)):
        start, end = span.start, span.end
        while end > start and text[end - 1] in " \t,.;:-":
            end -= 1
        if end <= start or any(start < b and a < end for a, b in taken):
            continue
        taken.append((start, end))
        kept.append(_Span(start, end, span.kind))
    return sorted(kept, key=lambda s: s.start)


def redact(text: str) -> RedactionResult:
    """Replace PII with typed placeholders; deterministic and idempotent."""
    normalised = unicodedata.normalize("NFC", text)
    ctx = _context(normalised)
    found = [
        *_presidio_spans(normalised),
        *_card_spans(normalised, ctx),
        *_national_id_spans(normalised, ctx),
        *_keyword_spans(normalised, ctx),
        *_spoken_digit_spans(normalised, ctx),
        *_phone_spans(normalised, ctx),
        *_name_spans(normalised),
    ]
    pieces: list[str] = []
    counts: dict[str, int] = {}
    cursor = 0
    for span in _resolve(normalised, found):
        pieces.append(normalised[cursor : span.start])
        pieces.append(f"[{span.kind}]")
        counts[span.kind] = counts.get(span.kind, 0) + 1
        cursor = span.end
    pieces.append(normalised[cursor:])
    return RedactionResult(text="".join(pieces), counts=counts)


_warm_lock = threading.Lock()


def warm_up() -> None:
    """Load the recognizers and word lists now (about a second) instead of on the first message."""
    with _warm_lock:
        redact("warm-up")
