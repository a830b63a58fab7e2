"""PII redaction applied before customer text reaches the LLM, the logs or workflow history.

Raw text stops at the API: everything downstream sees typed placeholders ("[EMAIL]",
"[PHONE]", ...) so the classifier still knows *that* a phone number was given without
seeing it. Order numbers, ticket numbers, drug names, doses and plain dates are kept on
purpose: service workflows need them. Each rule is a precompiled pattern plus an optional
validator (Luhn, mod-97, context checks) so that numbers that merely look like PII survive.
Placeholders contain no digits and no capitalised words, which makes redaction idempotent.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["RedactionResult", "redact"]


@dataclass(frozen=True)
class RedactionResult:
    """Redacted text plus how many replacements of each kind were made (for audit metrics)."""

    text: str
    counts: dict[str, int]


# --------------------------------------------------------------------------- shared fragments

_UPPER = "A-ZÀ-ÖØ-ÞĀĂĄĆČĎĐĒĘĚĞŁŃŇŐŒŘŚŠŞŢŤŰŹŻŽ"
_LOWER = "a-zß-öø-ÿāăąćčďđēęěğłńňőœřśšşţťűźżž"
# "Anna", "Jean-Pierre", "O'Brien", "McDonald"
_NAME_WORD = (
    rf"(?:[{_UPPER}]['\u2019])?[{_UPPER}][{_LOWER}]+(?:[{_UPPER}][{_LOWER}]+)?"
    rf"(?:[-'\u2019][{_UPPER}]?[{_LOWER}]+)*"
)
_NAME_PARTICLE = r"(?:van|von|de|der|den|da|di|del|du|dos|das|le|la|ter|ten)"
_TITLE = r"(?:(?:Dr|Mr|Mrs|Ms|Miss|Prof|Herr|Frau|Mme|Mlle|Sr|Sra|Sig|Sig\.ra|Dhr|Mevr|Pan|Pani)\.?\s+)"
_PERSON_NAME = rf"{_NAME_WORD}(?:\s+(?:{_NAME_PARTICLE}\s+)*{_NAME_WORD}){{0,2}}"

_MONTHS = (
    r"(?:january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar"
    r"|apr|jun|jul|aug|sept|sep|oct|nov|dec|januar|jänner|februar|märz|mai|juni|juli|oktober|dezember"
    r"|janvier|février|fevrier|mars|avril|juin|juillet|août|aout|septembre|octobre|novembre|décembre|enero"
    r"|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre|diciembre|gennaio"
    r"|febbraio|aprile|maggio|giugno|luglio|settembre|ottobre|dicembre|januari|februari|maart|mei|augustus"
    r"|janeiro|fevereiro|março|maio|junho|julho|setembro|outubro|novembro|dezembro|stycznia|lutego|marca"
    r"|kwietnia|maja|czerwca|lipca|sierpnia|września|października|listopada|grudnia)\b\.?"
)
_DATE = (
    r"(?:\d{1,2}[./-]\d{1,2}[./-](?:\d{4}|\d{2})(?!\d)|\d{4}[./-]\d{1,2}[./-]\d{1,2}(?!\d)"
    rf"|\d{{1,2}}(?:st|nd|rd|th|er|º|\.)?\s+(?:de\s+|of\s+)?{_MONTHS}\s*,?\s+(?:de\s+)?\d{{4}}"
    rf"|{_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}})"
)

# Words after which a number is a business identifier (order, ticket, batch...), never PII.
_IDENTIFIER_BEFORE = re.compile(
    r"(?i:(?:order|bestell|commande|pedido|ordine|bestelling|encomenda|zam[óo]wieni|ticket|case|ref|referen"
    r"|r[ée]f[ée]rence|riferimento|invoice|rechnung|facture|factura|fattura|factuur|fatura|faktura|tracking"
    r"|sendung|colis|suivi|seguimiento|spedizione|lot|batch|charge|lote|lotto|partij|pzn|ndc|ean|sku|item"
    r"|artikel|article|customer|kunden|client|klant|account|konto|compte|cuenta|conto|rx|prescription|rezept"
    r"|ordonnance|receta|ricetta|recept|receita|recepta|claim|member|policy)\w*\.?(?:\s*(?:number|no\.?"
    r"|nr\.?|n[°º]\.?|num(?:ber|mer|[ée]ro)?|id|code|#|is|ist|est|es|:|-))*\s*#?\s*)$"
)


# --------------------------------------------------------------------------- validators


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _passes_luhn(number: str) -> bool:
    """Card numbers carry a Luhn check digit; random 16-digit strings mostly do not."""
    total = 0
    for position, char in enumerate(reversed(number)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _passes_iban_checksum(candidate: str) -> bool:
    """ISO 13616 mod-97 check, so that product codes shaped like an IBAN survive."""
    compact = re.sub(r"[\s-]", "", candidate).upper()
    if not 15 <= len(compact) <= 34 or not compact.isalnum():
        return False
    rearranged = compact[4:] + compact[:4]
    as_digits = "".join(str(int(char, 36)) for char in rearranged)
    return int(as_digits) % 97 == 1


def _text_before(match: re.Match[str], width: int = 40) -> str:
    return match.string[max(0, match.start() - width) : match.start()]


def _is_card(match: re.Match[str]) -> bool:
    number = _digits(match.group())
    return (
        13 <= len(number) <= 19
        and _passes_luhn(number)
        and not _IDENTIFIER_BEFORE.search(_text_before(match))
    )


def _is_not_business_identifier(match: re.Match[str]) -> bool:
    """An SSN-shaped "order 123-45-6789" is an order number, not PII."""
    return not _IDENTIFIER_BEFORE.search(_text_before(match))


_IBAN_KEYWORD_BEFORE = re.compile(r"(?i:\biban\b\s*(?:number|no\.?|nr\.?|is|ist|est|:)?\s*)$")


def _is_national_id_value(match: re.Match[str]) -> bool:
    value = match.group("pii")
    return sum(char.isalnum() for char in value) >= 5 and len(_digits(value)) >= 2


# --------------------------------------------------------------------------- patterns

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}\b")

# Groups of four as IBANs are printed; the callback trims trailing groups until mod-97 passes.
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ -]?[A-Z0-9]{4}){2,7}(?:[ -]?[A-Z0-9]{1,3})?\b", re.IGNORECASE)

_CARD = re.compile(r"(?<![\w-])[2-6]\d{3}(?:[ -]?\d){9,15}(?![\w-])")

_US_SSN = re.compile(r"(?<![\w-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\w-])")

_NHS_NUMBER = re.compile(
    r"(?i:\bNHS)(?:\s+(?i:number|no\.?|nr\.?|num))?\s*[:#]?\s*(?P<pii>\d{3}[ -]?\d{3}[ -]?\d{4})(?![\w-])"
)

_NATIONAL_ID_KEYWORDS = (
    r"social\s+security|national\s+insurance|ni(?=\s+(?:number|no\b|nr\b))|national\s+id(?:entity)?|passport"
    r"|id\s+card|identity\s+card|driver'?s\s+licen[cs]e|driving\s+licen[cs]e|tax\s+id|ssn|personalausweis"
    r"|ausweis|reisepass|sozialversicherungs|steuer-?id|steueridentifikations|versicherten"
    r"|krankenversicherten|s[ée]curit[ée]\s+sociale|s[ée]cu|nir|carte\s+vitale|carte\s+d'identit[ée]"
    r"|num[ée]ro\s+fiscal|dni|nif|nss|seguridad\s+social|pasaporte|codice\s+fiscale|tessera\s+sanitaria"
    r"|carta\s+d'identit[àa]|bsn|burgerservice|paspoort|pesel|dow[óo]d\s+osobisty|cpf"
    r"|n[úu]mero\s+de\s+utente|cart[ãa]o\s+de\s+cidad[ãa]o|niss"
)
_NATIONAL_ID_BY_KEYWORD = re.compile(
    rf"(?i:\b(?:{_NATIONAL_ID_KEYWORDS})[\w-]*"
    r"(?:\s+(?:number|no\.?|nr\.?|n[°º]\.?|num(?:ber|mer|[ée]ro)?|#))?(?:\s*(?:is|ist|est|es|è|é|:|="
    r"|-))?\s*)(?P<pii>(?:[A-Z]{1,2}[ -])?[A-Z0-9]*\d[A-Z0-9]*(?:[ -](?:[A-Z0-9]*\d[A-Z0-9]*|[A-Z]\b))*)"
)

_DOB_KEYWORDS = (
    r"d\.?o\.?b\.?|date\s+of\s+birth|birth\s*date|born(?:\s+on)?|geburtsdatum|geb\.|geboren(?:\s+am)?"
    r"|n[ée]e?(?:\(e\))?\s+le|date\s+de\s+naissance|fecha\s+de\s+nacimiento|nacid[oa]\s+el|nac[ií]\s+el"
    r"|data\s+di\s+nascita|nat[oa]\s+il|geboortedatum|geboren\s+op|data\s+de\s+nascimento|nascid[oa]\s+em"
    r"|nasci\s+em|data\s+urodzenia|urodzon[ya]|ur\."
)
_DATE_OF_BIRTH = re.compile(
    rf"(?i:(?<![\w.])(?:{_DOB_KEYWORDS})(?:\s*(?:is|was|ist|est|es|è|é|:|-|=))?\s*)(?P<pii>(?i:{_DATE}))"
)
# German puts the keyword last: "ich bin am 3. März 1980 geboren".
_DATE_OF_BIRTH_KEYWORD_AFTER = re.compile(rf"(?i:\bam\s+)(?P<pii>(?i:{_DATE}))(?=\s+(?i:geboren)\b)")

_IPV4 = re.compile(
    r"(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?!\w|\.\d)"
)
_IPV6 = re.compile(
    r"(?<![\w:])(?:(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}"
    r"|(?:[0-9a-f]{1,4}:){1,7}:(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){0,6})?"
    r"|::(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){0,6}))(?![\w:])",
    re.IGNORECASE,
)

# A loose run of digits and separators; `_find_phone_within` decides what part of it is a phone.
_PHONE_CANDIDATE = re.compile(r"(?<![\w#+/.,@-])(?:\+|\(\+?)?\d[\d \-./()]*\d\)?")
_PHONE_KEYWORD_BEFORE = re.compile(
    r"(?i:\b(?:phone|tel|telephone|mobile|cell|cellphone|landline|fax|whatsapp|call\s+me(?:\s+back)?"
    r"|text\s+me|reach\s+me|ring\s+me|contact\s+number|number|telefon\w*|handy\w*|rufnummer|mobil\w*"
    r"|t[ée]l[ée]phone|t[ée]l|portable|tel[ée]fono|m[óo]vil|celular|cellulare|telefoon\w*|mobiel"
    r"|telem[óo]vel|telefone|kom[óo]rk\w*)\b\.?(?:\s*(?:number|no\.?|nr\.?|is|ist|est|es|è|é|on|at|:"
    r"|-))*\s*)$"
)
_PHONE_SEPARATOR = re.compile(r"[ \-./()]")
_DATE_SHAPE = re.compile(r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}|\d{1,2}[./-]\d{4}|\d{4}[./-]\d{4}")
_NANP_SHAPE = re.compile(r"\(?\d{3}\)?[ .-]?\d{3}[ .-]\d{4}")
_NINE_DIGIT_MOBILE_SHAPE = re.compile(r"[5-9]\d{2}(?:[ .-]\d{3}[ .-]\d{3}|[ .-]\d{2}[ .-]\d{2}[ .-]\d{2})")
_UNIT_AFTER = re.compile(
    r"(?i:\s?(?:mg|mcg|µg|ug|ml|g|kg|iu|ie|units?|tablets?|pills?|capsules?|doses?|%|€|eur|usd|gbp|\$|£"
    r"|euros?|dollars?|pounds?|x\b))"
)
_CURRENCY_BEFORE = re.compile(r"(?i:(?:[€$£]|eur|usd|gbp)\s?)$")

_ADDRESS_TAIL_POSTCODE = (
    r"(?:,?\s+(?:[A-Z][\w'-]+,?\s+)?(?:[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}|\d{4}\s?[A-Z]{2}\b|\d{5}(?:-\d{4})?"
    r"|[A-Z]{2}\s\d{5}(?:-\d{4})?|\d{2}-\d{3})(?:\s+[A-Z][\w'-]+)?)?"
)
_STREET_NAME = rf"[{_UPPER}][\w'\u2019.-]*"
_ADDRESS_PATTERNS = (
    # en: "221B Baker Street", "12 Main St., Apt 4"
    rf"\b\d{{1,5}}[A-Za-z]?,?\s+(?:{_STREET_NAME}\s+){{1,4}}"
    r"(?i:(?:street|road|avenue|lane|drive|boulevard|court|place|way|close|crescent|terrace|square|gardens"
    r"|parkway|highway|mews|grove)\b|(?:st|rd|ave|ln|dr|blvd|ct|pl|sq|pkwy|hwy)\b\.?)(?:,?\s+(?i:apt"
    r"|apartment|flat|suite|unit)\.?\s*#?\w+)?",
    # de/nl compound: "Hauptstraße 5", "Kerkstraat 12a"
    rf"\b[{_UPPER}][{_LOWER}-]+(?:straße|strasse|str\.|weg|gasse|allee|platz|ufer|damm|straat"
    r"|laan|plein|gracht|kade|singel|steeg|dijk)\s*\d{1,4}\s?[a-zA-Z]?\b",
    # de two words: "Berliner Straße 12"
    rf"\b{_STREET_NAME}\s+(?:Straße|Strasse|Str\.|Weg|Gasse|Allee|Platz|Ring)\s+\d{{1,4}}[a-z]?\b",
    # fr: "12 bis rue de la Paix"
    r"\b\d{1,4}(?:\s?(?:bis|ter))?,?\s+(?i:rue|avenue|av\.|boulevard|bd|place|all[ée]e|impasse|chemin|quai"
    r"|route|cours|square)\s+(?:(?:de\s+la|de\s+l'|du|des|de|d')\s*)?"
    rf"{_STREET_NAME}(?:[\s-]+(?:de\s+|du\s+|des\s+|la\s+|le\s+)?{_STREET_NAME}){{0,3}}",
    # es/it/pt/pl: street word first, house number last
    r"\b(?:Calle|C/|Avenida|Avda\.?|Av\.|Plaza|Pza\.?|Paseo|Camino|Carrer|Ronda|Via|Viale|Piazza|Piazzale"
    r"|Corso|Vicolo|Largo|Rua|Travessa|Praça|Estrada|Alameda|ul\.|ulica|al\.|aleja)\s*(?:(?:de\s+(?:la\s+"
    r"|los\s+|las\s+)?|del\s+|dei\s+|degli\s+|delle\s+|della\s+|dello\s+|di\s+|d'|da\s+|do\s+|dos\s+)\s*)?"
    rf"{_STREET_NAME}(?:\s+(?:de\s+|del\s+|di\s+|da\s+|la\s+)?{_STREET_NAME}){{0,3}},?\s*"
    r"(?:n[º°o]?\.?\s*)?\d{1,5}[A-Za-z]?(?:/\d{1,4})?\b",
)
_ADDRESS = re.compile("(?:" + "|".join(_ADDRESS_PATTERNS) + ")" + _ADDRESS_TAIL_POSTCODE)

_NAME_INTRODUCTION = re.compile(
    r"(?i:\b(?:my\s+name\s+is|my\s+name's|name\s*:|i\s+am|i'm|i\u2019m|this\s+is|ich\s+hei(?:ß|ss)e"
    r"|mein\s+name\s+ist|je\s+m'appelle|je\s+m\u2019appelle|mon\s+nom\s+est|me\s+llamo|mi\s+nombre\s+es"
    r"|mi\s+chiamo|il\s+mio\s+nome\s+è|mijn\s+naam\s+is|ik\s+heet|chamo-me|meu\s+nome\s+é|eu\s+sou"
    r"|nazywam\s+się|mam\s+na\s+imię|jestem)\s+)"
    rf"{_TITLE}?(?P<pii>{_PERSON_NAME})"
)
_SIGN_OFFS = (
    r"kind\s+regards|best\s+regards|warm\s+regards|regards|best\s+wishes|best|thanks\s+again|thank\s+you"
    r"|many\s+thanks|thanks|cheers|sincerely|yours\s+sincerely|yours\s+faithfully|yours\s+truly|yours"
    r"|mit\s+freundlichen\s+grüßen|freundliche\s+grüße|viele\s+grüße|liebe\s+grüße|beste\s+grüße|grüße|gruß"
    r"|lg|mfg|vielen\s+dank|danke|bien\s+cordialement|cordialement|bien\s+à\s+vous|merci\s+beaucoup|merci"
    r"|salutations|saludos\s+cordiales|un\s+saludo|saludos|atentamente|muchas\s+gracias|gracias"
    r"|cordiali\s+saluti|distinti\s+saluti|saluti|grazie\s+mille|grazie|met\s+vriendelijke\s+groet(?:en)?"
    r"|vriendelijke\s+groet(?:en)?|groeten|groetjes|bedankt|dank\s+je\s+wel|atenciosamente|cumprimentos"
    r"|obrigad[oa]|abraços|pozdrawiam|z\s+poważaniem|dziękuję|dzięki"
)
_SIGN_OFF_NAME = re.compile(
    rf"(?:^|(?<=[.!?,;]\s))[ \t]*(?i:{_SIGN_OFFS})[ \t]*[,!.]?[ \t]*(?:\n[ \t]*){{0,2}}-?[ \t]*"
    rf"{_TITLE}?(?P<pii>{_PERSON_NAME})(?=[ \t]*[.!]?[ \t]*$)",
    re.MULTILINE,
)
# Capitalised words that follow "I am" / "this is" / "Thanks" but are not names.
_NOT_A_NAME_WORDS = (
    "a an the not very so just also really still now here sorry writing calling having going "
    "taking trying looking waiting interested concerned worried unable urgent regarding re "
    "please ok okay fine type diabetic pregnant allergic asthmatic your my our on in at from "
    "with about again team all everyone you advance lot much beaucoup support pharmacy customer "
    "service hello hi dear good morning afternoon evening sir madam"
)
_NOT_A_NAME = frozenset(_NOT_A_NAME_WORDS.split())


# --------------------------------------------------------------------------- engine


def _find_iban_within(match: re.Match[str]) -> tuple[int, int] | None:
    """Shortest-suffix trimming: the greedy pattern may have swallowed a following word."""
    candidate = match.group()
    keyword_before = bool(_IBAN_KEYWORD_BEFORE.search(_text_before(match)))
    end = len(candidate)
    while end >= 15:
        piece = candidate[:end].rstrip(" -")
        if _passes_iban_checksum(piece) or (keyword_before and end == len(candidate)):
            return match.start(), match.start() + len(piece)
        boundary = max(piece.rfind(" "), piece.rfind("-"))
        if boundary <= 4:
            return None
        end = boundary
    return None


def _looks_like_phone(span: str, before: str, after: str) -> bool:
    """Phone heuristics: international prefix, a phone keyword, or a national layout."""
    digit_count = len(_digits(span))
    if not 7 <= digit_count <= 15:
        return False
    if _DATE_SHAPE.fullmatch(span.strip("()")) or _IDENTIFIER_BEFORE.search(before):
        return False
    if _UNIT_AFTER.match(after) or _CURRENCY_BEFORE.search(before):
        return False
    if span.startswith(("+", "(+")) or (span.startswith("00") and span[2:3] not in ("", "0")):
        return digit_count >= 8
    if _PHONE_KEYWORD_BEFORE.search(before):
        return True
    if not _PHONE_SEPARATOR.search(span):
        return False  # a bare digit run is an order/reference number unless introduced as a phone
    return (
        span.startswith("(")
        or (span.startswith("0") and digit_count >= 9)
        or bool(_NANP_SHAPE.fullmatch(span))
        or bool(_NINE_DIGIT_MOBILE_SHAPE.fullmatch(span))
    )


# "+49 (0) 30 12 34 56 78" has seven groups; longer runs are lists of numbers, not one phone.
_MAX_PHONE_TOKENS = 8


def _find_phone_within(match: re.Match[str]) -> tuple[int, int] | None:
    """Try the whole candidate, then sub-spans split on spaces (e.g. a date glued to a phone).

    Leading tokens may only be dropped when they are dates or tiny numbers (quantities), so
    that the tail of a long tracking number is never mistaken for a phone.
    """
    text, start = match.string, match.start()
    if _IDENTIFIER_BEFORE.search(_text_before(match)):
        return None
    candidate = match.group()
    tokens = [(m.start(), m.end()) for m in re.finditer(r"\S+", candidate)]
    for first in range(len(tokens)):
        if first > 0:
            dropped = candidate[tokens[first - 1][0] : tokens[first - 1][1]]
            if not (_DATE_SHAPE.fullmatch(dropped) or len(_digits(dropped)) <= 2):
                break
        for last in range(min(len(tokens), first + _MAX_PHONE_TOKENS) - 1, first - 1, -1):
            span_start, span_end = start + tokens[first][0], start + tokens[last][1]
            span = text[span_start:span_end]
            if span.endswith(")") and span.count("(") < span.count(")"):
                span_end -= 1
                span = span[:-1]
            before = text[max(0, span_start - 40) : span_start]
            after = text[span_end : span_end + 12]
            if _looks_like_phone(span, before, after):
                return span_start, span_end
    return None


def _pii_group_span(match: re.Match[str]) -> tuple[int, int]:
    return match.span("pii") if "pii" in match.re.groupindex else match.span()


def _name_span(match: re.Match[str]) -> tuple[int, int] | None:
    """Keep only the leading words that are plausibly a name ("I am Pregnant" is not one)."""
    start, _ = match.span("pii")
    kept_end = start
    for word in re.finditer(r"\S+", match.group("pii")):
        if word.group().casefold() in _NOT_A_NAME:
            break
        kept_end = start + word.end()
    return (start, kept_end) if kept_end > start else None


SpanFinder = Callable[[re.Match[str]], tuple[int, int] | None]


@dataclass(frozen=True)
class _Rule:
    """One kind of PII: where it is, and which part of each match to replace."""

    kind: str
    pattern: re.Pattern[str]
    locate: SpanFinder


def _whole_match_if(check: Callable[[re.Match[str]], bool]) -> SpanFinder:
    def locate(match: re.Match[str]) -> tuple[int, int] | None:
        return _pii_group_span(match) if check(match) else None

    return locate


def _always(match: re.Match[str]) -> tuple[int, int] | None:
    return _pii_group_span(match)


# Order matters: specific, validated kinds first so that looser ones (phone) never see them.
_RULES: tuple[_Rule, ...] = (
    _Rule("EMAIL", _EMAIL, _always),
    _Rule("IBAN", _IBAN, _find_iban_within),
    _Rule("CARD", _CARD, _whole_match_if(_is_card)),
    _Rule("NATIONAL_ID", _US_SSN, _whole_match_if(_is_not_business_identifier)),
    _Rule("NATIONAL_ID", _NHS_NUMBER, _always),
    _Rule("NATIONAL_ID", _NATIONAL_ID_BY_KEYWORD, _whole_match_if(_is_national_id_value)),
    _Rule("DOB", _DATE_OF_BIRTH, _always),
    _Rule("DOB", _DATE_OF_BIRTH_KEYWORD_AFTER, _always),
    _Rule("IP", _IPV4, _always),
    _Rule("IP", _IPV6, _always),
    _Rule("PHONE", _PHONE_CANDIDATE, _find_phone_within),
    _Rule("ADDRESS", _ADDRESS, _always),
    _Rule("NAME", _NAME_INTRODUCTION, _name_span),
    _Rule("NAME", _SIGN_OFF_NAME, _name_span),
)


def _apply(rule: _Rule, text: str, counts: dict[str, int]) -> str:
    pieces: list[str] = []
    cursor = 0
    for match in rule.pattern.finditer(text):
        span = rule.locate(match)
        if span is None or span[0] < cursor:
            continue
        pieces.append(text[cursor : span[0]])
        pieces.append(f"[{rule.kind}]")
        cursor = span[1]
        counts[rule.kind] = counts.get(rule.kind, 0) + 1
    pieces.append(text[cursor:])
    return "".join(pieces)


def redact(text: str) -> RedactionResult:
    """Replace PII with typed placeholders; deterministic and idempotent."""
    redacted = unicodedata.normalize("NFC", text)
    counts: dict[str, int] = {}
    for rule in _RULES:
        redacted = _apply(rule, redacted, counts)
    return RedactionResult(text=redacted, counts=counts)
