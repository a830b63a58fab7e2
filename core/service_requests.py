"""Work out which service action a customer asks for, and which references they quote.

The LLM only decides the category of a message; the concrete action (cancel, refund, ...) and
the order/prescription/ticket numbers are extracted here with keyword tables and regular
expressions, so the same text always yields the same request and every decision can be
explained by the ``evidence`` phrase that triggered it.

Matching runs on a folded copy of the text: case-folded, accents stripped, redaction
placeholders such as ``[EMAIL]`` removed, punctuation turned into single spaces. ``evidence`` is
the matched phrase in that folded form.

Precedence
----------
Kinds are tried in the order of ``_KIND_RULES`` and the first kind with a matching phrase wins,
whatever the phrase's position in the text. The order encodes which intent must not be lost
when a message mentions several:

1. ``account_data_request``: erasure/access rights are legal obligations with deadlines, and
   "cancel my account" must not be read as an order cancellation.
2. ``human_agent``: an explicit request for a person overrides any self-service action.
3. ``cancel_order`` before ``refund``: "cancel my order and refund me" is a cancellation; the
   refund follows from it.
4. ``refund`` (including returns) before ``billing``: "charged twice, please refund" asks for
   the money back.
5. ``address_change``, ``prescription_renewal``, ``password_reset``, ``billing``,
   ``tracking``: concrete actions in decreasing order of how much they change an order.
6. ``complaint`` last among the specific kinds: dissatisfaction usually accompanies one of the
   actions above, which is what needs doing.

Only present-tense requests trigger a cancellation ("cancel", "annuler"); past forms such as
"was cancelled" describe what happened and are left to the other rules.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import Enum


class ServiceActionKind(str, Enum):
    """The service actions a workflow knows how to carry out or hand over."""

    cancel_order = "cancel_order"
    refund = "refund"
    address_change = "address_change"
    tracking = "tracking"
    prescription_renewal = "prescription_renewal"
    billing = "billing"
    account_data_request = "account_data_request"
    password_reset = "password_reset"
    human_agent = "human_agent"
    complaint = "complaint"
    generic = "generic"

    def __str__(self) -> str:
        return str(self.value)


@dataclass(frozen=True)
class ServiceRequest:
    """The requested action plus every reference quoted, in order of appearance."""

    kind: ServiceActionKind
    order_numbers: tuple[str, ...]
    prescription_numbers: tuple[str, ...]
    ticket_numbers: tuple[str, ...]
    evidence: str


# Up to three filler words between the parts of a phrase ("change my delivery address").
_GAP = r"(?:\w+ ){0,3}"
# Where a verb is ambiguous ("cancel", "cancelar"), only determiners may sit between it and the
# object, so "cancel the order on my account" stays an order cancellation.
_EN_DETERMINERS = (
    r"(?:(?:my|the|this|our|your|all|of|me|customer|online|personal|entire|whole|carepharm) )"
    r"{0,4}"
)
_ES_DETERMINERS = r"(?:(?:mi|la|el|mis|los|las|de|todos|todas|me|personales|toda) ){0,3}"


def _any(*alternatives: str) -> str:
    """A non-capturing alternation of folded words or phrases."""
    return "(?:" + "|".join(alternatives) + ")"


def _near(first: str, second: str, gap: str = _GAP) -> str:
    """``first`` followed by ``second`` with at most a few words in between."""
    return rf"\b{first} {gap}{second}\b"


def _word(*alternatives: str) -> str:
    """Whole-word alternation, so "reso" does not fire inside "resolved"."""
    return rf"\b{_any(*alternatives)}\b"


_HUMAN_TARGETS_EN = _any(
    "human",
    "person",
    "agent",
    "someone",
    "somebody",
    "representative",
    "operator",
    "manager",
    "supervisor",
    "advisor",
    "adviser",
    "pharmacist",
    "staff member",
    "member of staff",
)
_PARCEL_WORDS_EN = _any(
    "order",
    "parcel",
    "package",
    "delivery",
    "medication",
    "medicine",
    "prescription",
    "items?",
    "tablets",
)
_MEDICINE_WORDS_EN = _any("prescription", "medication", "medicine", "tablets", "pills", "inhaler")

_KIND_RULES: tuple[tuple[ServiceActionKind, tuple[str, ...]], ...] = (
    (
        ServiceActionKind.account_data_request,
        (
            # en
            _near(
                _any(
                    "delete",
                    "deleting",
                    "close",
                    "closing",
                    "cancel",
                    "remove",
                    "erase",
                    "deactivate",
                    "terminate",
                ),
                _any("account", "profile", "data", "information"),
                _EN_DETERMINERS,
            ),
            r"right to (?:be forgotten|erasure)",
            _word("gdpr"),
            _any("subject access", "data access", "data export", "data deletion", "data protection")
            + " request",
            _near(
                _any("copy", "export"),
                "of "
                + _any("my ", "your ", "the ", "all ", "")
                + _any("personal ", "")
                + _any("data", "information"),
                "",
            ),
            r"what (?:personal )?(?:data|information) do you (?:hold|have|store|keep)",
            r"(?:unsubscribe|opt out)(?: me)? (?:from|of) (?:your |all )?(?:marketing|newsletter)",
            # de
            _near(
                _any("konto", "kundenkonto", "benutzerkonto", "account", "profil", "daten"),
                _any("loschen", "schliessen", "kundigen", "entfernen", "aufheben"),
            ),
            _near(
                _any("losch", "losche", "loschen", "schliessen", "kundigen"),
                _any("konto", "kundenkonto", "account", "profil", "daten"),
            ),
            _word("dsgvo", "datenauskunft"),
            r"auskunft uber (?:meine |die )?(?:gespeicherten )?daten|recht auf vergessen",
            # fr
            _near(
                _any("supprimer", "suppression", "fermer", "fermeture", "effacer", "cloturer"),
                _any("compte", "donnees", "profil"),
            ),
            _word("rgpd"),
            r"droit a l oubli|acces a mes donnees",
            # es
            _near(
                _any("eliminar", "borrar", "cancelar", "cerrar", "suprimir", "dar de baja"),
                _any("cuenta", "datos", "perfil"),
                _ES_DETERMINERS,
            ),
            r"derecho al olvido|acceso a mis datos",
            # it
            _near(
                _any("cancellare", "eliminare", "chiudere", "cancellazione", "eliminazione"),
                _any("account", "conto", "dati", "profilo"),
            ),
            r"diritto all oblio",
            # nl
            _near(_any("account", "gegevens", "profiel"), _any("verwijderen", "opheffen", "wissen")),
            _near(_any("verwijder", "verwijderen"), _any("account", "gegevens", "profiel")),
            r"inzage in (?:mijn )?gegevens|\bavg verzoek\b",
        ),
    ),
    (
        ServiceActionKind.human_agent,
        (
            # en
            _near(
                _any("speak", "talk", "chat", "connect me", "put me through", "transfer me")
                + " "
                + _any("to", "with"),
                _HUMAN_TARGETS_EN,
            ),
            r"\b(?:real|live|human) (?:person|agent|human|being)\b",
            r"call me back|(?:request|arrange|want|need) a (?:call ?back|callback)",
            # de
            _near(
                "mit",
                _any(
                    "menschen",
                    "mitarbeiter",
                    "mitarbeiterin",
                    "berater",
                    "beraterin",
                    "person",
                    "jemandem",
                    "apotheker",
                    "apothekerin",
                    "vorgesetzten",
                    "agenten",
                )
                + " "
                + _any("sprechen", "reden", "verbinden"),
            ),
            _word("ruckruf", "zuruckrufen", r"rufen sie mich (?:bitte )?(?:zu)?ruck"),
            # fr
            _near(
                "parler " + _any("a", "avec"),
                _any(
                    "humain",
                    "personne",
                    "conseiller",
                    "conseillere",
                    "agent",
                    "operateur",
                    "operatrice",
                    "responsable",
                    "pharmacien",
                    "pharmacienne",
                    "quelqu un",
                ),
            ),
            _word("rappelez moi", "me rappeler", "etre rappele", "etre rappelee"),
            # es
            _near(
                "hablar con",
                _any(
                    "persona",
                    "agente",
                    "humano",
                    "asesor",
                    "asesora",
                    "operador",
                    "operadora",
                    "representante",
                    "encargado",
                    "farmaceutico",
                    "farmaceutica",
                    "alguien",
                ),
            ),
            _word("llamenme", "que me llamen", "devolver la llamada"),
            # it
            _near(
                "parlare con",
                _any(
                    "operatore",
                    "operatrice",
                    "persona",
                    "umano",
                    "consulente",
                    "responsabile",
                    "farmacista",
                    "qualcuno",
                ),
            ),
            _word("richiamatemi", "mi richiamate", "essere richiamato", "essere richiamata"),
            # nl
            _near(
                _any("spreken", "praten") + " met",
                _any("medewerker", "mens", "persoon", "iemand", "apotheker"),
            ),
            _near(_any("medewerker", "mens", "persoon", "iemand", "apotheker"), _any("spreken", "praten")),
            _word("bel me terug", "terugbellen", "teruggebeld"),
        ),
    ),
    (
        ServiceActionKind.cancel_order,
        (
            # en: present-tense requests only; "was cancelled" is not a request.
            _word("cancel", "cancellation", "cancelation"),
            _near("stop", _any("order", "delivery", "shipment", "parcel")),
            _near(
                _any("no longer", "don t", "do not") + " " + _any("want", "need"),
                _any("order", "items?", "medicines?"),
            ),
            # de
            _word("stornieren", "stornierung", "storno", "stornier"),
            _near("bestellung", _any("zuruckziehen", "abbrechen", "annullieren", "widerrufen")),
            # fr
            _word("annuler", "annulez", "annulation"),
            # es
            _word("cancelar", "cancele", "cancelen", "cancelacion", "anular", "anule", "anulen", "anulacion"),
            # it
            _word("annullare", "annullate", "annulla", "annullamento"),
            _near("cancellare", "ordine"),
            # nl
            _word("annuleren", "annuleer", "annulering", "bestelling intrekken"),
        ),
    ),
    (
        ServiceActionKind.refund,
        (
            # en, returns included: a return ends in a refund.
            r"\brefund\w*",
            r"money back|\breimburs\w*|\brepay\w*|credit (?:it )?back",
            r"\bsend back\b|\bsend (?:\w+ ){1,3}back\b",
            _near(
                "return",
                _any(
                    "item",
                    "order",
                    "product",
                    "parcel",
                    "package",
                    "medicine",
                    "medication",
                    "tablets",
                    "it",
                    "them",
                ),
            ),
            # de
            r"\b\w*(?:erstattung|erstatten|erstattet)\b",
            _word(
                "geld zuruck",
                "ruckzahlung",
                "rucksendung",
                "zuruckschicken",
                "zurucksenden",
                "zuruckgeben",
                "gutschrift",
            ),
            # fr
            r"\brembours\w*",
            _near(
                _any("retourner", "renvoyer"), _any("article", "produit", "commande", "colis", "medicament")
            ),
            # es
            r"\breembols\w*|\bdevolucion\w*|\bdevolver\b|devuelvan el dinero",
            # it
            r"\brimbors\w*|\brestituire\b|\breso\b",
            # nl
            r"\bterugbetal\w*|geld terug|\bretourneren\b|\bterugsturen\b",
        ),
    ),
    (
        ServiceActionKind.address_change,
        (
            # en
            _near(
                _any("change", "changing", "update", "updating", "correct", "modify", "amend", "edit", "fix"),
                "address",
            ),
            r"address (?:change|update|correction|is wrong|was wrong)",
            r"(?:wrong|incorrect|new|different|old) (?:delivery |shipping |postal )?address",
            _word("moved house", "moved home", "moved flat"),
            # de
            _near("adresse", _any("andern", "aktualisieren", "korrigieren", "berichtigen")),
            _near(_any("andern", "aktualisieren", "korrigieren"), "adresse"),
            _word("adressanderung", "anschriftanderung", "umgezogen"),
            r"(?:neue|falsche|andere) (?:liefer)?(?:adresse|anschrift)",
            # fr
            _near(_any("changer", "modifier", "corriger", "mettre a jour"), "adresse"),
            r"changement d adresse|(?:nouvelle|mauvaise) adresse|adresse (?:incorrecte|erronee)",
            _word("demenage"),
            # es
            _near(_any("cambiar", "modificar", "corregir", "actualizar"), "direccion"),
            r"cambio de direccion|nueva direccion|direccion (?:incorrecta|equivocada|erronea)",
            # it
            _near(_any("cambiare", "modificare", "correggere", "aggiornare"), "indirizzo"),
            r"cambio (?:di |d )?indirizzo|(?:nuovo|altro) indirizzo|indirizzo sbagliato",
            # nl
            _near("adres", _any("wijzigen", "aanpassen", "veranderen", "corrigeren")),
            _near(_any("wijzig", "verander", "pas"), "adres"),
            r"\badreswijziging\b|(?:nieuw|verkeerd|ander) adres",
        ),
    ),
    (
        ServiceActionKind.prescription_renewal,
        (
            # en
            _near(_any("renew", "renewing", "reorder", "re order", "refill", "extend"), _MEDICINE_WORDS_EN),
            r"prescription (?:renewal|refill)|repeat prescription|\brefill\b",
            _near(r"running (?:out|low) (?:of|on)", _any(_MEDICINE_WORDS_EN, "insulin")),
            r"prescription (?:has )?(?:expired|run out|ran out)",
            # de
            _near("rezept", _any("verlangern", "erneuern", "nachbestellen")),
            r"\b(?:folgerezept|wiederholungsrezept|dauerrezept|rezeptverlangerung)\w*",
            # fr
            _near(r"renouvel\w*", "ordonnance"),
            r"ordonnance renouvelable",
            # es
            _near(_any("renovar", "renovacion", "renueve", "renovarme"), "receta"),
            r"receta (?:repetida|recurrente|cronica)",
            # it
            _near(_any("rinnovare", "rinnovo", "rinnovate"), "ricetta"),
            r"ricetta ripetibile",
            # nl
            r"\bherhaalrecept\w*|herhaalmedicatie",
            _near("recept", _any("verlengen", "vernieuwen")),
        ),
    ),
    (
        ServiceActionKind.password_reset,
        (
            _word("password", "passwort", "kennwort", "mot de passe", "contrasena", "wachtwoord"),
            r"(?:can t|cannot|can not|unable to|couldn t) (?:log|sign) ?in",
            r"locked out|account (?:is )?locked",
            r"(?:log ?in|sign ?in) (?:problem|issue|not working|doesn t work)",
            r"kann mich nicht (?:mehr )?(?:an|ein)(?:melden|loggen)|konto (?:ist )?gesperrt",
            r"(?:impossible de|n arrive pas a) (?:me )?connecter",
            r"no (?:puedo|consigo) (?:iniciar sesion|entrar|acceder)",
            r"non riesco (?:ad|a) accedere",
            r"(?:kan|lukt) (?:niet|het niet) (?:in ?loggen|inloggen)",
        ),
    ),
    (
        ServiceActionKind.billing,
        (
            # en
            r"charged (?:me )?(?:twice|two times|double|more than once)|double charge\w*",
            r"\bovercharg\w*|\binvoice\b|\breceipt\b|\bbilling\b|\bbilled\b",
            r"payment (?:failed|declined|problem|issue|error|did not go through)",
            r"card (?:was |has been )?(?:declined|charged|rejected)",
            r"wrong amount|charged (?:the )?wrong|unknown charge|unexpected charge",
            r"prescription charge|prepayment certificate",
            # de
            r"\brechnung\b|doppelt (?:abgebucht|belastet|berechnet)|zu viel berechnet",
            r"\babbuchung\b|zahlung (?:fehlgeschlagen|abgelehnt)|\bquittung\b",
            # fr
            r"\bfactur\w*|debite deux fois|double (?:prelevement|debit)",
            r"paiement (?:refuse|echoue|rejete)|\bpreleve\w*",
            # es
            r"cobrado dos veces|doble cobro|cobro (?:duplicado|indebido)",
            r"me han cobrado|pago (?:rechazado|fallido)|\brecibo\b",
            # it
            r"\bfattura\b|addebitato due volte|doppio addebito|\baddebit\w*",
            r"pagamento (?:rifiutato|non riuscito)|\bricevuta\b",
            # nl
            r"\bfactuur\b|dubbel (?:afgeschreven|betaald|gefactureerd)|\bafschrijving\b",
            r"betaling (?:mislukt|geweigerd)",
        ),
    ),
    (
        ServiceActionKind.tracking,
        (
            # en
            r"\bwhere(?: is| s| are)? my " + _PARCEL_WORDS_EN,
            r"\btrack\w*",
            r"(?:not|never) (?:yet )?(?:arrived|been delivered|turned up|shown up)",
            r"(?:not|never) (?:yet )?received (?:my |the |our )?" + _PARCEL_WORDS_EN,
            r"(?:order|delivery|shipping) status|status of my (?:order|delivery|parcel)",
            r"when will (?:my )?(?:order|parcel|package|delivery|it) "
            + _any("arrive", "be delivered", "come"),
            r"dispatched yet|shipped yet|late delivery|delivery is late|still waiting",
            # de
            r"wo (?:ist|bleibt) (?:meine |mein )?(?:bestellung|sendung|paket|lieferung)",
            r"sendungsverfolgung|sendungsnummer|bestellstatus|lieferstatus",
            r"noch nicht (?:angekommen|erhalten|geliefert|da)|wann kommt",
            # fr
            r"\bou (?:est|en est) (?:ma |mon )?(?:commande|colis|livraison)",
            r"suivi (?:de |du )?(?:ma |mon )?(?:commande|colis|livraison)|numero de suivi",
            r"(?:pas|jamais) (?:encore )?(?:recu|arrive|ete livre)",
            r"statut de (?:ma |la )?commande|quand (?:vais je recevoir|arrivera)",
            # es
            r"donde esta (?:mi )?(?:pedido|paquete|envio)|\bseguimiento\b",
            r"no (?:me )?ha (?:llegado|sido entregado)|todavia no (?:he recibido|ha llegado)",
            r"estado de (?:mi )?pedido|cuando llegara",
            # it
            r"dov e (?:il mio )?(?:ordine|pacco|spedizione)|\btracciamento\b",
            r"non (?:e|mi e) ancora arrivato|stato dell ordine|quando arriva",
            # nl
            r"waar is (?:mijn )?(?:bestelling|pakket|zending)",
            r"nog (?:niet|steeds niet) (?:ontvangen|aangekomen|bezorgd|geleverd)",
            r"status van (?:mijn )?bestelling|wanneer komt",
        ),
    ),
    (
        ServiceActionKind.complaint,
        (
            # en
            r"\bcomplain\w*",
            _word(
                "unacceptable",
                "disgusted",
                "appalling",
                "disgraceful",
                "rude",
                "terrible service",
                "awful service",
                "very disappointed",
            ),
            r"arrived (?:damaged|broken)|wrong (?:item|medicine|product)",
            r"items? (?:is |are )?missing",
            # de
            r"\bbeschwer\w*",
            _word("unzumutbar", "inakzeptabel", "enttauscht", "frechheit", "reklamation"),
            # fr
            r"\bscandaleu\w*",
            _word("plainte", "reclamation", "inadmissible", "inacceptable", "decu", "decue"),
            # es
            r"\bqueja\w*|\breclamacion\w*|\bdecepcionad\w*",
            _word("quejarme", "inaceptable", "pesimo servicio"),
            # it
            _word("reclamo", "lamentela", "inaccettabile", "deluso", "delusa", "vergognoso"),
            # nl
            r"\bklacht\w*",
            _word("klagen", "onacceptabel", "teleurgesteld", "schandalig"),
        ),
    ),
)

_COMPILED_KIND_RULES: tuple[tuple[ServiceActionKind, tuple[re.Pattern[str], ...]], ...] = tuple(
    (kind, tuple(re.compile(pattern) for pattern in patterns)) for kind, patterns in _KIND_RULES
)

_PLACEHOLDER_PATTERN = re.compile(r"\[[^\[\]]*\]")
_NON_WORD_PATTERN = re.compile(r"[^a-z0-9]+")

# A reference: letters/digits, optionally dash-separated, containing at least four digits, so
# "order for" or "case of" never produce one. The look-ahead lets the search move on to a later
# keyword ("prescription Rx 1234567") instead of consuming a word that is not a reference.
_MIN_REFERENCE_DIGITS = 4
_REFERENCE = rf"((?=(?:[A-Z-]*[0-9]){{{_MIN_REFERENCE_DIGITS}}})[A-Z0-9]+(?:-[A-Z0-9]+)*)"
_NUMBER_WORD = (
    r"(?:(?:(?:number|nummer|numero|num|nro|nr|no|ref|reference)\b\.?|n\s?[°º]|n\.)"
    r"\s*[:#]?\s*)?"
)

_ORDER_PATTERNS = (
    re.compile(
        r"\b(?:order|bestellung|bestellnummer|auftrag|auftragsnummer|commande|pedido|orden|"
        r"ordine|bestelling|bestelnummer|encomenda)\s*[:#]?\s*" + _NUMBER_WORD + r"#?\s*" + _REFERENCE,
        re.IGNORECASE,
    ),
    re.compile(r"\b(ORD-?\d+(?:-\d+)*)\b", re.IGNORECASE),
)
_PRESCRIPTION_PATTERNS = (
    re.compile(
        r"\b(?:rx|prescription|rezept|ordonnance|receta|ricetta|recept)\s*[:#]?\s*"
        + _NUMBER_WORD
        + r"#?\s*"
        + _REFERENCE,
        re.IGNORECASE,
    ),
    re.compile(r"\b(RX-?\d+)\b", re.IGNORECASE),
)
_TICKET_PATTERNS = (
    re.compile(
        r"\b(?:ticket|case|vorgang|vorgangsnummer|dossier|caso|incidencia|pratica|zaak|"
        r"ticketnummer)\s*[:#]?\s*" + _NUMBER_WORD + r"#?\s*" + _REFERENCE,
        re.IGNORECASE,
    ),
    re.compile(r"\b(CS-?\d+)\b", re.IGNORECASE),
)


def _strip_accents(text: str) -> str:
    """Drop diacritics so "número" and "numero" (or "löschen" and "loschen") compare equal."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _fold_for_keywords(text: str) -> str:
    """Lower-case, accent-free, placeholder-free text with single spaces between words."""
    without_placeholders = _PLACEHOLDER_PATTERN.sub(" ", text)
    folded = _strip_accents(without_placeholders.casefold())
    return " " + _NON_WORD_PATTERN.sub(" ", folded).strip() + " "


def _detect_kind(text: str) -> tuple[ServiceActionKind, str]:
    """The highest-priority kind with a matching phrase, and that phrase."""
    folded = _fold_for_keywords(text)
    for kind, patterns in _COMPILED_KIND_RULES:
        for pattern in patterns:
            match = pattern.search(folded)
            if match:
                return kind, match.group(0).strip()
    return ServiceActionKind.generic, ""


def _extract_references(text: str, patterns: tuple[re.Pattern[str], ...]) -> tuple[str, ...]:
    """Upper-cased references in order of appearance, each once."""
    found = sorted(
        (match.start(1), match.group(1).upper()) for pattern in patterns for match in pattern.finditer(text)
    )
    unique: dict[str, None] = {}
    for _, reference in found:
        unique.setdefault(reference, None)
    return tuple(unique)


def extract_service_request(text: str) -> ServiceRequest:
    """Classify the requested action and collect the references quoted in ``text``."""
    kind, evidence = _detect_kind(text)
    reference_text = _PLACEHOLDER_PATTERN.sub(" ", _strip_accents(text))
    return ServiceRequest(
        kind=kind,
        order_numbers=_extract_references(reference_text, _ORDER_PATTERNS),
        prescription_numbers=_extract_references(reference_text, _PRESCRIPTION_PATTERNS),
        ticket_numbers=_extract_references(reference_text, _TICKET_PATTERNS),
        evidence=evidence,
    )
