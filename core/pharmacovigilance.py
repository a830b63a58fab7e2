"""Deterministic pharmacovigilance rules for an incoming adverse-event report.

A valid individual case safety report needs four minimum criteria (an identifiable patient, an
identifiable reporter, a suspect product and an adverse event); what is missing is what the
safety team must follow up. Seriousness follows the ICH E2A categories plus the special
situations a pharmacy sees (overdose, exposure of a child). The regulatory clock runs from day
zero, the day the company first received the report: 15 calendar days if serious, else 90.

Runs inside an activity, never in workflow code, so a change to these rules cannot break the
replay of a workflow that is already running. These keyword rules only pre-fill the report; the
human reviewer's decision is what counts.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from core.models import ReportAssessment

RULES_VERSION = "pv-rules-2026-11-1"

SERIOUS_DUE_DAYS = 15
NON_SERIOUS_DUE_DAYS = 90

CRITERIA = ("identifiable_patient", "identifiable_reporter", "suspect_product", "adverse_event")


def _pattern(*alternatives: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")", re.IGNORECASE)


# Redaction leaves typed placeholders such as [NAME] or [EMAIL]: they prove someone is identifiable.
_PLACEHOLDER = re.compile(r"\[[A-Z_]+\]")

_PATIENT = _pattern(
    r"i\b",
    r"i'm\b",
    r"my\b",
    r"me\b",
    r"myself\b",
    r"patient",
    r"son\b",
    r"daughter",
    r"child",
    r"kid\b",
    r"baby",
    r"toddler",
    r"mother",
    r"father",
    r"mum\b",
    r"mom\b",
    r"dad\b",
    r"husband",
    r"wife",
    r"partner",
    r"he\b",
    r"she\b",
    r"ich\b",
    r"mein",
    r"je\b",
    r"mon\b",
    r"ma\b",
)
_SUSPECT_PRODUCT = _pattern(
    r"tablet",
    r"pill",
    r"capsule",
    r"medication",
    r"medicine",
    r"drug",
    r"inhaler",
    r"vaccin",
    r"injection",
    r"cream",
    r"ointment",
    r"drops",
    r"syrup",
    r"patch",
    r"dose",
    r"prescription",
    r"ibuprofen",
    r"paracetamol",
    r"acetaminophen",
    r"aspirin",
    r"metformin",
    r"amoxicillin",
    r"insulin",
    r"statin",
    r"\w+pril\b",
    r"\w+olol\b",
    r"\w+statin\b",
    r"\w+azole\b",
    r"\w+cillin\b",
    r"tabletten",
    r"medikament",
    r"comprim",
    r"médicament",
)
_ADVERSE_EVENT = _pattern(
    r"rash",
    r"itch",
    r"hives",
    r"nause",
    r"vomit",
    r"dizz",
    r"headache",
    r"pain",
    r"swell",
    r"swollen",
    r"bleed",
    r"side effect",
    r"reaction",
    r"allerg",
    r"seizure",
    r"faint",
    r"diarrh",
    r"palpitation",
    r"breath",
    r"hospital",
    r"died",
    r"death",
    r"sick",
    r"ill\b",
    r"overdose",
    r"ausschlag",
    r"nebenwirkung",
    r"übel",
    r"effet secondaire",
    r"éruption",
)

SERIOUSNESS_SIGNALS: dict[str, re.Pattern[str]] = {
    "hospitalisation": _pattern(
        r"hospital",
        r"admitted",
        r"emergency room",
        r"\ber\b",
        r"a&e",
        r"intensive care",
        r"icu\b",
        r"krankenhaus",
        r"notaufnahme",
        r"hôpital",
        r"urgences",
    ),
    "life_threatening": _pattern(
        r"life[- ]threatening",
        r"anaphyla",
        r"could(?:n't| not) breathe",
        r"stopped breathing",
        r"resuscitat",
        r"cardiac arrest",
        r"lebensgefahr",
    ),
    "death": _pattern(r"died", r"death", r"passed away", r"dead\b", r"fatal", r"gestorben", r"décédé"),
    "disability": _pattern(
        r"disab",
        r"paraly",
        r"lost (?:my |his |her )?(?:sight|vision|hearing)",
        r"blind",
        r"deaf",
        r"permanent damage",
    ),
    "congenital_anomaly": _pattern(r"birth defect", r"congenital", r"malformation"),
    "overdose_or_child_exposure": _pattern(
        r"overdose",
        r"double dose",
        r"took (?:a )?double",
        r"too many",
        r"took twice",
        r"(?:child|kid|toddler|baby|son|daughter) (?:\w+ ){0,2}(?:swallowed|ate|took|got into)",
        r"überdosis",
        r"surdosage",
    ),
}


def regulatory_due_date(day_zero: datetime, serious: bool) -> date:
    """Calendar days from day zero: weekends and holidays do not stop the clock."""
    days = SERIOUS_DUE_DAYS if serious else NON_SERIOUS_DUE_DAYS
    return day_zero.date() + timedelta(days=days)


def assess_report(
    redacted_text: str, received_at: datetime, *, reporter_known: bool = False
) -> ReportAssessment:
    """Minimum criteria present/missing, seriousness signals and the regulatory due date.

    `reporter_known` is true when the channel identifies the sender (a customer account).
    """
    found = {
        "identifiable_patient": bool(_PATIENT.search(redacted_text) or _PLACEHOLDER.search(redacted_text)),
        "identifiable_reporter": reporter_known or bool(_PLACEHOLDER.search(redacted_text)),
        "suspect_product": bool(_SUSPECT_PRODUCT.search(redacted_text)),
        "adverse_event": bool(_ADVERSE_EVENT.search(redacted_text)),
    }
    seriousness = [name for name, pattern in SERIOUSNESS_SIGNALS.items() if pattern.search(redacted_text)]
    serious = bool(seriousness)
    return ReportAssessment(
        criteria_present=[name for name in CRITERIA if found[name]],
        criteria_missing=[name for name in CRITERIA if not found[name]],
        seriousness=seriousness,
        serious=serious,
        day_zero=received_at,
        regulatory_due_date=regulatory_due_date(received_at, serious),
        rules_version=RULES_VERSION,
    )
