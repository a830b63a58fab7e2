"""One text-folding helper for every rule table that matches customer text.

The safety guard, the prompt-injection detector and the knowledge base write their patterns in
plain lowercase ASCII; this module folds the text the same way for all of them: Unicode
compatibility forms (NFKC), case (casefold), accents (NFKD minus combining marks, plus the few
letters that do not decompose such as Polish "ł"), typographic apostrophes and runs of
whitespace. `fold_with_offsets` also maps every folded character back to its source character so
that evidence can be quoted from the original text.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

__all__ = ["fold", "fold_with_offsets", "strip_accents"]

# Letters that NFKD does not decompose, and apostrophe look-alikes.
_EXTRA_FOLDS = {
    "ł": "l",
    "đ": "d",
    "ø": "o",
    "æ": "ae",
    "œ": "oe",
    "ß": "ss",
    "\u0131": "i",  # dotless i
    "\u2019": "'",  # right single quotation mark
    "\u2018": "'",  # left single quotation mark
    "\u02bc": "'",  # modifier letter apostrophe
    "`": "'",
    "\u00b4": "'",  # acute accent used as an apostrophe
}


def strip_accents(text: str) -> str:
    """Accents and apostrophe variants only (case is kept): "Ärger" -> "Arger", a typographic apostrophe -> "'"."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return "".join(_EXTRA_FOLDS.get(char, char) for char in plain)


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    if char in "\n\r\u2028\u2029":
        return "\n"
    if char.isspace():
        return " "
    return strip_accents(unicodedata.normalize("NFKC", char).casefold())


def fold_with_offsets(text: str) -> tuple[str, list[int]]:
    """Folded text plus, for every folded character, the index of its source character.

    Runs of spaces and tabs become one space (a pattern's single space matches a double space);
    line breaks stay, because they end a sentence.
    """
    pieces: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        folded = _fold_char(char)
        if folded in (" ", "\n") and pieces and pieces[-1] == folded:
            continue
        pieces.append(folded)
        origin.extend([index] * len(folded))
    return "".join(pieces), origin


def fold(text: str) -> str:
    """Case-, accent-, apostrophe- and whitespace-folded text: "Übelkeit  seit" -> "ubelkeit seit"."""
    return fold_with_offsets(text)[0]
