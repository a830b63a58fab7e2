"""Regenerate core/data/given_names.txt and core/data/surnames.txt from `names-dataset`.

names-dataset (PyPI, maintained, MIT/Apache data from public profiles) needs ~2 GB of memory
and ~25 s to load, far too much for the API process, so the redactor reads a compact extract:
the most frequent given names and surnames of the countries whose customers we serve. Stop
words of the served languages (spaCy's lists) are removed so that "May" or "Will" after a
name cue are not treated as names. Run it with the package on the path, e.g.
`uv run --with names-dataset python scripts/build_name_gazetteer.py`.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

COUNTRIES = ("GB", "US", "IE", "DE", "AT", "CH", "FR", "BE", "ES", "IT", "NL", "PL", "PT", "BR", "RU", "UA")
TOP_GIVEN_PER_GENDER = 1500
TOP_SURNAMES = 2500
LANGUAGES = ("en", "de", "fr", "es", "it", "nl", "pl", "pt", "ru")
OUT = Path(__file__).resolve().parent.parent / "core" / "data"


def _stop_words() -> set[str]:
    words: set[str] = set()
    for lang in LANGUAGES:
        module = importlib.import_module(f"spacy.lang.{lang}.stop_words")
        words |= {w.casefold() for w in module.STOP_WORDS}
    return words


def _clean(names: list[str], stop: set[str]) -> set[str]:
    kept = set()
    for name in names:
        word = name.strip()
        if len(word) < 2 or not all(c.isalpha() or c in "-'" for c in word):
            continue
        if word.casefold() in stop:
            continue
        kept.add(word.casefold())
    return kept


def main() -> None:
    from names_dataset import NameDataset  # type: ignore[import-not-found]

    dataset = NameDataset()
    stop = _stop_words()
    given: set[str] = set()
    surnames: set[str] = set()
    for country in COUNTRIES:
        top = dataset.get_top_names(n=TOP_GIVEN_PER_GENDER, country_alpha2=country).get(country, {})
        for gender_names in top.values():
            given |= _clean(gender_names, stop)
        last = dataset.get_top_names(n=TOP_SURNAMES, use_first_names=False, country_alpha2=country)
        surnames |= _clean(last.get(country, []), stop)
    header = (
        f"# Extract of names-dataset {getattr(sys.modules.get('names_dataset'), '__version__', '3.3.1')}:"
        f" top {{n}} per country {', '.join(COUNTRIES)}; casefolded; stop words removed.\n"
        "# Regenerate: scripts/build_name_gazetteer.py\n"
    )
    (OUT / "given_names.txt").write_text(
        header.format(n=f"{TOP_GIVEN_PER_GENDER}/gender") + "\n".join(sorted(given)) + "\n", encoding="utf-8"
    )
    (OUT / "surnames.txt").write_text(
        header.format(n=TOP_SURNAMES) + "\n".join(sorted(surnames)) + "\n", encoding="utf-8"
    )
    sys.stderr.write(f"given names: {len(given)}, surnames: {len(surnames)}\n")


if __name__ == "__main__":
    main()
