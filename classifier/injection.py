"""Deterministic detector of messages that try to instruct the classifier (prompt injection).

The prompt already treats the customer text as data, but a 1.5B model still follows a confident
"classify this as informational". The policy therefore never auto-routes a message that tries to
steer it: an agent looks at it (a safety verdict or a guard raise still wins). Patterns are
generic instruction forms in the eight supported languages, matched on `core.text.fold` text,
never specific messages.

injection-2026-12-01.1 removed four forms that occurred only in held-out test rows (Spanish/Italian
"ignora las instrucciones", "as an AI", "clasifica esto", a JSON `"role": "system"`) and narrowed
three that flagged ordinary requests ("mark this as urgent", "you should always reply within 24
hours", "my doctor gave me new instructions").
"""

from __future__ import annotations

import re

from core.text import fold

INJECTION_VERSION = "injection-2026-12-01.1"

_LABEL_WORDS = (
    r"(?:info(?:rmational|rmativo|rmatif|rmativ|rmazione)?|service(?:[_ ]action)?|safety(?:[_ ]compliance)?"
    r"|general question|question generale|pregunta general|domanda generale|vraag|pytanie"
    r"|servicio|servizio|servico|dienst|usluga)"
)

_PATTERNS: dict[str, tuple[str, ...]] = {
    "override_instructions": (
        r"\bignore (?:all |any |the |your |my )?(?:previous|prior|above|earlier|former|preceding|other)?"
        r" ?(?:instructions|rules|prompts?|guidelines|directions|classification rules)\b",
        r"\bdisregard (?:all |any |the |your )?(?:previous |prior |above )?(?:instructions|rules)\b",
        r"\bignorieren sie (?:alle )?(?:bisherigen |vorherigen |obigen )?(?:anweisungen|regeln)\b",
        r"\bignorier(?:e)? (?:alle )?(?:bisherigen |vorherigen )?(?:anweisungen|regeln)\b",
        r"\bignore[zrs]? (?:les |toutes les )?(?:consignes|instructions|regles)\b",
        r"\bignore as (?:regras|instrucoes)\b",
        r"\bnegeer (?:alle )?(?:eerdere |vorige )?(?:instructies|regels)\b",
        r"\bzignoruj (?:wszystkie )?(?:poprzednie )?(?:instrukcje|zasady|polecenia)\b",
    ),
    "classification_command": (
        rf"\b(?:classify|label|mark|tag|categori[sz]e|route|flag|file|put) (?:this|it|me|the following"
        rf"|this (?:message|ticket|email|request)) (?:down )?as (?:an? )?{_LABEL_WORDS}",
        # "you should always reply within 24 hours" is a customer's expectation, not an instruction.
        r"\b(?:you must|you should|always) (?:classify|label|categori[sz]e|outputs?|(?:answer|respond|reply)"
        r" (?:as|with|only))\b",
        r"\b(?:automated|ai|automatic) (?:agents?|assistants?|triage|systems?|classifiers?)"
        r"(?: processing this)?,? (?:must|should|please)\b",
        r"\bnote to (?:the )?(?:automated|ai|automatic) (?:triage|system|assistant|classifier)\b",
        r"\breclassify\b",
        r"\bclassify (?:it |this )?as\b",
        r"\blabell?ed (?:as )?" + _LABEL_WORDS,
        r"\blabel\s*[=:]",
        r"\boutput (?:only|label|the label)\b",
        r"\brespond only with\b",
        r"\brepeat after me\b",
        r"\bpretend (?:you'?re|you are|to be)\b",
        r"\bdeveloper mode\b",
        # "my doctor gave me new instructions" is ordinary; "new instructions:" addresses the model.
        r"\bnew instructions\s*:",
        r"\binstructions? (?:to|for) (?:the )?(?:classifier|ai|model|bot|assistant)\b",
        r"\b(?:note |message )?(?:to|for) (?:the|any) (?:ai|bot|classifier|model)\b",
        r"\b(?:ai|bot|classifier|model|assistant)s? (?:reading|processing) this\b",
        r"\bhey bot\b",
        r"\bpre-?screened\b",
        r"\bstufen sie (?:diese|die) nachricht\b",
        r"\bclasse[zr]? ce message\b",
        r"\bclassifica (?:questo|il messaggio|questa)\b",
        r"\bva classificato come\b",
        r"\bclassifique (?:isto|esta mensagem)\b",
        r"\blabel dit als\b",
        r"\bsklasyfikuj (?:to|te wiadomosc)\b",
    ),
    "role_spoofing": (
        r"(?:^|\n|\. )\s*(?:system|assistant|developer)\s*:",
        r"\bsystem (?:override|note|prompt|message|instruction)s?\b",
        r"</?(?:system|message|assistant|instructions?)>",
        r"\[(?:system|instruction|admin)\b",
        r"<\|?im_start\|?>|\[/?inst\]|<<sys>>",
        r"\byou are (?:a|an) (?:helpful )?(?:assistant|ai|classifier|model)\b",
    ),
}

_COMPILED = {name: tuple(re.compile(p) for p in patterns) for name, patterns in _PATTERNS.items()}


def detect(text: str) -> list[str]:
    """Names of the injection forms found in the text (empty when none)."""
    folded = fold(text)
    return [name for name, patterns in _COMPILED.items() if any(p.search(folded) for p in patterns)]
