"""Deterministic multilingual safety guard that runs next to the LLM classifier.

The small LLM misses terse safety reports ("took double dose"), symptoms mentioned in passing
inside a service request, non-English symptoms and clinical case-report wording. This guard looks
for signals of *experienced* harm or risk and can only RAISE a message to safety review, never
lower it. The patterns are reviewed data, not code: `classifier/data/guard_patterns.yaml` (one
entry per pattern: signal, language, pattern, a positive and a negative example, provenance)
and `classifier/data/guard_context.yaml` (experience markers, negation cues, conditions, ...).

A candidate is cancelled ("suppressed") when it sits in the scope of a negation ("no side
effects") or in a purely general/hypothetical question ("can ibuprofen cause a rash?") without an
experience marker. A negation that does not deny the symptom ("could not stop vomiting", "did not
expect to get hives", "don't feel well") never suppresses it. Suppressed findings are reported
and, from this version on, keep the message from being auto-routed (`suppressed_needs_human`).

Matching runs on `core.text.fold_with_offsets` text (lowercase ASCII); evidence is cut from the
original text through the offset map.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from core.models import GuardFinding, GuardResult
from core.text import fold_with_offsets

__all__ = ["DATA_DIR", "GUARD_VERSION", "check", "load_tables"]

DATA_DIR = Path(__file__).resolve().parent / "data"
_MAX_EVIDENCE_CHARS = 80
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)|\n")
KINDS = ("signal", "self_harm_always", "linked_symptom", "side_effect_mention")


def near_pattern(first: str, second: str, within: int) -> str:
    """Both parts in either order inside one sentence, at most `within` characters apart."""
    between = rf"[^.!?\n]{{0,{within}}}?"
    return rf"(?:(?:{first}){between}(?:{second})|(?:{second}){between}(?:{first}))"


def entry_pattern(entry: dict[str, Any]) -> str:
    """The regular expression of one pattern entry (`pattern`, or `near` for two parts)."""
    if "near" in entry:
        near = entry["near"]
        return near_pattern(near["first"], near["second"], int(near["within"]))
    return str(entry["pattern"])


@dataclass(frozen=True)
class _Rule:
    """One pattern of one signal in one language, with how it may be cancelled."""

    signal: str
    language: str
    pattern: re.Pattern[str]
    # Self-harm phrases are never cancelled by negation or a question: they are the negation.
    immune: bool = False
    # Context that must appear in the sentence or a neighbour for the rule to count.
    requires: re.Pattern[str] | None = None
    # Benign context (planned surgery, delivery admin) that cancels the rule unless the
    # neighbourhood ties the event to a medicine.
    benign: re.Pattern[str] | None = None


@dataclass(frozen=True)
class _Tables:
    version: str
    rules: tuple[_Rule, ...]
    context: dict[str, re.Pattern[str]]
    negation_scope: re.Pattern[str]
    symptom_signals: frozenset[str]
    stopwords: dict[str, frozenset[str]]


def _read_yaml(name: str) -> dict[str, Any]:
    data = yaml.safe_load((DATA_DIR / name).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{name}: expected a mapping")
    return data


def _alternatives(items: list[dict[str, Any]]) -> str:
    return "(?:" + "|".join(str(item["pattern"]) for item in items) + ")"


@lru_cache(maxsize=1)
def load_tables() -> _Tables:
    """Compile the YAML tables once per process."""
    patterns_doc = _read_yaml("guard_patterns.yaml")
    context_doc = _read_yaml("guard_context.yaml")
    raw_context = {name: _alternatives(block["patterns"]) for name, block in context_doc["context"].items()}
    raw_context["medicine_context"] = (
        f"(?:{raw_context['medication_link']}|{raw_context['medicine_context']})"
    )
    context = {name: re.compile(pattern) for name, pattern in raw_context.items()}
    signal_rules: dict[str, dict[str, str]] = context_doc.get("signal_rules", {})
    rules: list[_Rule] = []
    for entry in patterns_doc["patterns"]:
        kind = entry.get("kind", "signal")
        if kind not in KINDS:
            raise ValueError(f"unknown pattern kind {kind!r}")
        signal_rule = signal_rules.get(entry["signal"], {}) if kind == "signal" else {}
        requires = {
            "linked_symptom": context["medication_link"],
            "side_effect_mention": context["experience_marker"],
        }.get(kind)
        if "requires" in signal_rule:
            requires = context[signal_rule["requires"]]
        benign_name = signal_rule.get("benign_unless_medication_link")
        rules.append(
            _Rule(
                signal=entry["signal"],
                language=entry["language"],
                pattern=re.compile(entry_pattern(entry)),
                immune=kind == "self_harm_always",
                requires=requires,
                benign=context[benign_name] if benign_name else None,
            )
        )
    return _Tables(
        version=str(patterns_doc["version"]),
        rules=tuple(rules),
        context=context,
        negation_scope=re.compile(rf"{raw_context['negation_cue']}(?:\W+[\w']+){{0,5}}?\W*$"),
        symptom_signals=frozenset(context_doc["symptom_signals"]),
        stopwords={lang: frozenset(words.split()) for lang, words in context_doc["stopwords"].items()},
    )


GUARD_VERSION = load_tables().version


# --------------------------------------------------------------------------- engine


@dataclass(frozen=True)
class _Sentence:
    start: int
    end: int
    text: str
    is_question: bool


@dataclass(frozen=True)
class _Candidate:
    rule: _Rule
    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start


def _split_sentences(folded: str, tables: _Tables) -> list[_Sentence]:
    bounds = [0, *(m.end() for m in _SENTENCE_END.finditer(folded))]
    if bounds[-1] < len(folded):
        bounds.append(len(folded))
    sentences = []
    for start, end in itertools.pairwise(bounds):
        text = folded[start:end]
        is_question = "?" in text or bool(tables.context["info_question_start"].search(text))
        sentences.append(_Sentence(start, end, text, is_question))
    return sentences


def _sentence_index(sentences: list[_Sentence], position: int) -> int:
    for index, sentence in enumerate(sentences):
        if sentence.start <= position < sentence.end:
            return index
    return len(sentences) - 1


def _clause_prefix(sentence: _Sentence, position: int, tables: _Tables) -> str:
    """Text of the current clause before `position` (negation and conditions do not cross clauses)."""
    prefix = sentence.text[: position - sentence.start]
    breaks = list(tables.context["clause_break"].finditer(prefix))
    return prefix[breaks[-1].end() :] if breaks else prefix


def _neighbourhood(sentences: list[_Sentence], index: int, tables: _Tables) -> str:
    """The sentence and its neighbours, without conditional clauses and question announcements:
    "I started X on Monday. Is a rash normal?" is one report."""
    text = " ".join(sentence.text for sentence in sentences[max(0, index - 1) : index + 2])
    text = tables.context["question_announcement"].sub(" ", text)
    return tables.context["conditional_clause"].sub(" ", text)


def _is_hypothetical(sentence: _Sentence, candidate: _Candidate, tables: _Tables) -> bool:
    if sentence.is_question:
        return True
    offset = candidate.start - sentence.start
    if tables.context["general_info_cue"].search(sentence.text[:offset]):
        return True
    return any(
        clause.start() <= offset < clause.end()
        for clause in tables.context["conditional_clause"].finditer(sentence.text)
    )


def _negated(clause: str, tables: _Tables) -> re.Match[str] | None:
    """The negation that denies the symptom, unless it only negates something else."""
    negation = tables.negation_scope.search(clause)
    if negation is None or tables.context["negation_release"].search(clause):
        return None
    return negation


def _judge(candidate: _Candidate, sentences: list[_Sentence], tables: _Tables) -> tuple[str, int]:
    """Verdict ("raise", "suppress", "drop") and where the evidence starts."""
    if candidate.rule.immune:
        return "raise", candidate.start
    index = _sentence_index(sentences, candidate.start)
    sentence = sentences[index]
    ctx = tables.context
    clause = _clause_prefix(sentence, candidate.start, tables)
    negation = _negated(clause, tables)
    if negation:
        return "suppress", candidate.start - len(clause) + negation.start()
    if candidate.rule.signal in tables.symptom_signals and ctx["indication_before"].search(clause):
        return "suppress", candidate.start
    context = _neighbourhood(sentences, index, tables)
    linked = bool(ctx["medication_link"].search(context))
    if (
        candidate.rule.signal == "adverse_reaction"
        and ctx["advice_request"].search(context)
        and not linked
        and not ctx["severe_symptom"].search(context)
    ):
        return "suppress", candidate.start
    if _is_hypothetical(sentence, candidate, tables) and not ctx["experience_marker"].search(context):
        return "suppress", candidate.start
    if candidate.rule.requires is not None and not candidate.rule.requires.search(context):
        return "drop", candidate.start
    if candidate.rule.benign is not None and candidate.rule.benign.search(context) and not linked:
        return "suppress", candidate.start
    return "raise", candidate.start


def _guess_language(folded: str, tables: _Tables) -> str:
    words = re.findall(r"[\w']+", folded)
    scores = {lang: sum(word in stopwords for word in words) for lang, stopwords in tables.stopwords.items()}
    best = max(scores, key=lambda lang: scores[lang])
    return best if scores[best] > 0 else "en"


def _overlaps(first: _Candidate, second: _Candidate) -> bool:
    return first.rule.signal == second.rule.signal and first.start < second.end and second.start < first.end


def _drop_overlaps(candidates: list[_Candidate], preferred_language: str) -> list[_Candidate]:
    """Keep one candidate per overlapping span of the same signal: longest, then the message language."""
    ranked = sorted(candidates, key=lambda c: (-c.length, c.rule.language != preferred_language, c.start))
    kept: list[_Candidate] = []
    for candidate in ranked:
        if not any(_overlaps(candidate, other) for other in kept):
            kept.append(candidate)
    return sorted(kept, key=lambda c: (c.start, c.rule.signal))


def _finding(text: str, origin: list[int], candidate: _Candidate) -> GuardFinding:
    evidence = ""
    if origin:
        last = origin[max(candidate.start, candidate.end - 1)]
        evidence = text[origin[candidate.start] : last + 1].strip()[:_MAX_EVIDENCE_CHARS]
    return GuardFinding(signal=candidate.rule.signal, language=candidate.rule.language, evidence=evidence)


def check(text: str) -> GuardResult:
    """Report signals of experienced harm or risk; `raise_to_safety` if any survives suppression."""
    tables = load_tables()
    folded, origin = fold_with_offsets(text)
    sentences = _split_sentences(folded, tables)
    preferred_language = _guess_language(folded, tables)
    raised: list[_Candidate] = []
    cancelled: list[_Candidate] = []
    for rule in tables.rules:
        for match in rule.pattern.finditer(folded):
            if match.end() == match.start():
                continue
            candidate = _Candidate(rule, match.start(), match.end())
            verdict, evidence_start = _judge(candidate, sentences, tables)
            if verdict == "raise":
                raised.append(candidate)
            elif verdict == "suppress":
                cancelled.append(_Candidate(rule, evidence_start, match.end()))
    kept = _drop_overlaps(raised, preferred_language)
    still_cancelled = [c for c in cancelled if not any(_overlaps(c, other) for other in kept)]
    suppressed = [_finding(text, origin, c) for c in _drop_overlaps(still_cancelled, preferred_language)]
    return GuardResult(
        raise_to_safety=bool(kept),
        findings=[_finding(text, origin, candidate) for candidate in kept],
        suppressed=suppressed,
        suppressed_needs_human=bool(suppressed),
    )
