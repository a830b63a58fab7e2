"""Deterministic multilingual safety guard that runs next to the LLM classifier.

The small LLM misses terse safety reports ("took double dose"), symptoms mentioned in passing
inside a service request, non-English symptoms and clinical case-report wording. This guard
looks for signals of *experienced* harm or risk with readable pattern tables and can only
RAISE a message to safety review, never lower it. Candidates are cancelled when they sit in
the scope of a negation ("no side effects") or inside a purely general/hypothetical question
("can ibuprofen cause a rash?") without any experience marker ("I have", "my son", "after
taking"). Every decision is reported (findings and suppressed) so reviewers can audit it.

Matching runs on a folded copy of the text (NFKC, case-folded, accents stripped) so the tables
are written in plain lowercase ASCII; evidence is cut from the original text via an offset map.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from core.models import GuardFinding, GuardResult

__all__ = ["GUARD_VERSION", "check"]

GUARD_VERSION = "guard-2026-11-25.2"

_MAX_EVIDENCE_CHARS = 80
_LANGUAGES = ("en", "de", "fr", "es", "it", "pt", "nl", "pl")

# --------------------------------------------------------------------------- folding

# Letters that NFKD does not decompose, plus typographic apostrophes.
_EXTRA_FOLDS = {
    "ł": "l",
    "đ": "d",
    "ø": "o",
    "æ": "ae",
    "œ": "oe",
    "\u0131": "i",  # dotless i
    "\u2019": "'",  # right single quotation mark
    "\u2018": "'",  # left single quotation mark
    "\u02bc": "'",  # modifier letter apostrophe
    "`": "'",
    "\u00b4": "'",  # acute accent
}


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return "".join(_EXTRA_FOLDS.get(char, char) for char in plain)


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    return _strip_accents(unicodedata.normalize("NFKC", char).casefold())


def _fold_with_offsets(text: str) -> tuple[str, list[int]]:
    """Folded text plus, for every folded character, the index of its source character."""
    pieces: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        folded = _fold_char(char)
        pieces.append(folded)
        origin.extend([index] * len(folded))
    return "".join(pieces), origin


def _compile(pattern: str) -> re.Pattern[str]:
    """Patterns are folded like the text (accents only: case-folding would break `\\W`)."""
    return re.compile(_strip_accents(pattern))


def _any(*alternatives: str) -> str:
    return "(?:" + "|".join(alternatives) + ")"


def _near(first: str, second: str, gap: int = 60) -> str:
    """Both parts in either order inside one sentence, at most `gap` characters apart."""
    between = rf"[^.!?\n]{{0,{gap}}}?"
    return rf"(?:(?:{first}){between}(?:{second})|(?:{second}){between}(?:{first}))"


def _child_got_medicine(children: str, verbs: str, medicines: str) -> str:
    """A child or pet, an ingestion verb and a medicine, in either word order ("ate my pills",
    "hat Tabletten geschluckt"); without the medicine "my son ate dinner" would match."""
    return (
        rf"\b(?:{children}) (?:[\w']+ ){{0,4}}(?:(?:{verbs}) (?:[\w']+ ){{0,4}}(?:{medicines})"
        rf"|(?:{medicines}) (?:[\w']+ ){{0,2}}(?:{verbs}))\b"
    )


# --------------------------------------------------------------------------- signal tables
# language -> signal -> patterns. Written in folded form: lowercase, no accents.

_NUMBER_WORDS_EN = r"(?:[5-9]|[1-9]\d+|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty)"
_PILLS_EN = r"(?:pills?|tablets?|capsules?|caps|gummies|doses|meds)"

_SIGNALS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "adverse_reaction": (
            r"\brash(?:es|y)?\b",
            r"\bhives?\b",
            r"\bswell(?:ing|ed|s)?\b",
            r"\bswollen\b",
            r"\b(?:can'?t|cannot|could ?n'?t|could not|unable to|struggling to|hard to|trouble"
            r"|difficulty) breath(?:e|ing)?\b",
            r"\bshort(?:ness)? of breath\b",
            r"\bwheez\w*",
            r"\bdi+z+(?:y|i)(?:n+e+s+)?\b",
            r"\blight-?headed(?:ness)?\b",
            r"\bvom+it+(?:ing|ed|s)?\b",
            r"\bthrow(?:ing)? up\b",
            r"\bthrew up\b",
            r"\bpuk(?:e|ed|ing)\b",
            r"\bfaint(?:ed|ing)\b",
            r"\b(?:feel|felt|feeling) faint\b",
            r"\bpass(?:ed|ing)? out\b",
            r"\bblack(?:ed)? out\b",
            r"\b(?:i|he|she|my \w+|patient) (?:\w+ ){0,2}collaps(?:ed|ing)\b",
            r"\blost consciousness\b",
            r"\bunconscious\b",
            r"\bs(?:ei|ie)zures?\b",
            r"\bconvuls\w*",
            r"\bbleed(?:ing|s)?\b",
            r"\bbled\b",
            r"\bblood in (?:my |his |her |the )?(?:urine|stool|poo|pee|vomit|spit)\b",
            r"\bnose ?bleeds?\b",
            r"\bcoughing (?:up )?blood\b",
            r"\bchest (?:pains?|tightness|is tight|hurts)\b",
            r"\btight chest\b",
            r"\bpalp[ai]tations?\b",
            r"\b(?:heart|pulse) (?:is |was |keeps )?(?:racing|pounding|fluttering|skipping)\b",
            r"\b(?:heart|pulse) (?:\w+ )?pound(?:s|ed|ing)?\b",
            r"\bburn(?:-like|ing)? marks?\b",
            r"\b(?:had|having|has) (?:a )?fits?\b",
            r"\b(?:her|his|their|our) \w+ (?:\w+ ){0,2}collaps(?:ed|ing)\b",
            r"\birregular heart ?beat\b",
            r"\bhallucinat\w*",
            r"\bseeing things\b",
            r"\bhearing voices\b",
            r"\bjaundice\w*",
            r"\byellow(?:ing)? (?:of )?(?:my |his |her |the )?(?:skin|eyes)\b",
            r"\banaphyla\w*",
            r"\ballergic reactions?\b",
            r"\b(?:bad|severe|serious|strange|weird|horrible|terrible|adverse|skin) reactions?\b",
            r"\breact(?:ed|ing|ion) (?:badly )?to\b",
            r"\breactions? (?:from|after)\b",
            r"\bblistering\b",
            r"\bblisters? (?:on|all over)\b",
            r"\b(?:got|have|had|developed|with) blisters\b",
            r"\bpeeling skin\b",
            r"\bskin (?:is )?peeling\b",
            r"\bblurr?(?:y|ed) vision\b",
            r"\bvision (?:is |went |got )?blurr?(?:y|ed)\b",
            r"\bmade (?:me|him|her|us|them|my \w+) (?:feel )?(?:so |really |very )?(?:sick|ill|unwell"
            r"|nauseous|dizzy|vomit|throw up|pass out|faint|awful|terrible|worse|bad|weird|strange|groggy"
            r"|drowsy|confused)\b",
            r"\bgave (?:me|him|her|my \w+) (?:a |an |bad |terrible |severe |horrible )?(?:rash|hives"
            r"|headaches?|migraines?|reaction|side effects|diarrh\w*|nausea|cramps|palpitations"
            r"|nosebleeds?)\b",
            r"\b(?:having|getting|experiencing|suffering(?: from)?|experienced|got"
            r"|get) (?:\w+ ){0,2}side[ -]?effects?\b",
            r"\bside[ -]?effects? (?:since|ever since)\b",
            r"\b(?:feel|felt|feeling) (?:so |really |very )?(?:sick|ill|unwell|awful|terrible|horrible|weird"
            r"|strange|rough) (?:since|after|ever since)\b",
            r"\breport(?:ing)? (?:a |an )?(?:possible |suspected )?(?:side[ -]?effect|adverse|reaction)\w*",
        ),
        "overdose": (
            r"\bdoubl(?:e|ed) (?:my |the |a |his |her )?(?:dose|dosed|dosage|up)\b",
            r"\bdouble[ -]dos(?:e|ed|ing)\b",
            r"\btook (?:my |the |his |her |a |an )?(?:\w+ ){0,2}(?:dose|doses|medication|meds|tablets?"
            r"|pills?|injection|insulin|it) twice\b",
            r"\b(?:took|taken|given|gave|injected) (?:him |her |them )?(?:two|2|three|3|both|extra|an extra"
            r"|another|several|multiple) (?:\w+ )?doses\b",
            r"\b(?:took|taken|take|swallowed|had|given|gave) too (?:many|much)\b(?! (?:time|effort|money"
            r"|hassle)\b)",
            r"\btoo many (?:pills|tablets|capsules|doses)\b",
            rf"\b(?:took|taken|swallowed) (?:about |around |like )?{_NUMBER_WORDS_EN} (?:\w+ )?{_PILLS_EN}\b",
            r"\b(?:took|taken|swallowed) (?:a|the) whole (?:pack|box|bottle|strip|blister)\b",
            r"\boverdos\w*",
            r"\bod'?d\b",
            r"\b(?:took|taken|gave|given) (?:\w+ ){0,2}more than (?:the )?(?:prescribed|recommended|maximum"
            r"|max)\b",
            r"\bexceeded (?:the )?(?:max\w*|recommended|daily) dose\b",
            r"\b(?:took|taken|gave|given|injected) (?:\w+ ){0,3}instead of "
            r"(?:the usual )?(?:one|1|half|a half)\b",
            r"\bforgot (?:that )?(?:i|he|she) (?:had )?already (?:took|taken|had)\b",
            r"\b(?:injected|gave|given) (?:\w+ ){0,2}(?:twice|double)\b",
        ),
        "accidental_ingestion": (
            _child_got_medicine(
                r"child|kid|son|daughter|toddler|baby|grandson|granddaughter|grandchild|nephew|niece|dog|cat"
                r"|puppy|kitten",
                r"got into|got hold of|gotten into|swallowed|ate|eaten|chewed|drank|drunk|licked|ingested"
                r"|found",
                r"pills?|tablets?|capsules?|meds|medicines?|medication|gummies|vitamins|bottle|blister|patch"
                r"|syrup|drops|some|them|cabinet|handbag|purse",
            ),
            rf"\bswallowed (?:some|several|a few|a handful of|a bunch of|half|\d+|two|three|four"
            rf"|one of (?:my|the|his|her|their)) (?:\w+ )?{_PILLS_EN}\b",
            r"\bate (?:some|a few|several|the|my|his|her|\d+|two|three) (?:of )?(?:my |the |his |her "
            r"|grandma'?s |\w+'s )?(?:pills|tablets|capsules|gummies|medicine|meds|vitamins)\b",
            r"\baccidentally (?:took|taken|gave|given|swallowed|ate|ingested|drank|injected|used)\b",
            r"\b(?:took|taken) (?:my |his |her )?(?:husband|wife|partner|mother|mum|mom|father|dad|son"
            r"|daughter|brother|sister|friend|roommate|someone else|somebody else)'?s (?:pills|tablets"
            r"|medication|medicine|meds|dose|insulin)\b",
            r"\bgave (?:my |our |the )?(?:son|daughter|child|kid|baby|toddler|dog|cat) (?:\w+ ){0,2}(?:wrong"
            r"|double|adult|too much|twice)\b",
            r"\btook the wrong (?:pills|tablets|medication|medicine|meds|dose)\b",
        ),
        "self_harm": (
            r"\bsuicid\w*",
            r"\bself[- ]harm\w*",
            r"\btake (?:them|all of them) all\b(?! (?:at once|together|at the same time|in the (?:morning"
            r"|evening)|with|before|after|daily)\b)",
            r"\bmake (?:it all|everything|it) stop\b",
            r"\bstockpil(?:e|ed|es|ing)\b",
            r"\bwon'?t (?:be )?need(?:ing)? (?:anything|them|it|any more) (?:after|anymore|any more)\b",
        ),
        "wrong_product": (
            r"\bwrong (?:medication|medicine|meds|drug|pills?|tablets?|capsules?|inhaler|insulin)\b",
            r"\b(?:received|got|sent|delivered|given|dispensed) (?:me )?(?:a |the )?(?:different"
            r"|another) (?:medication|medicine|drug|brand)\b",
            r"\b(?:box|package|pack|packet|bottle) (?:contain(?:s|ed)|had|has) (?:a |the )?(?:different"
            r"|another|wrong)\b",
            r"\b(?:pills?|tablets?|capsules?|medication|medicine|liquid|solution|insulin"
            r"|syrup) (?:\w+ ){0,2}(?:look|looks|looked|seem|seems|seemed|are|is|were"
            r"|was) (?:\w+ )?(?:different|strange|odd|weird|unusual)\b",
            _near(
                r"\b(?:pills?|tablets?|capsules?|batch|medicine|medication|they|these)\b",
                r"\bdifferent (?:colou?r|shape|size|imprint|markings?|logo|taste)\b",
                40,
            ),
            r"\b(?:colou?r|shape|imprint|markings?) (?:is|are|was|were) (?:\w+ )?different\b",
        ),
        "product_defect": (
            r"\bsmell(?:s|ed|ing)? (?:strange|weird|odd|funny|bad|off|rotten|awful)\b",
            r"\bsmell(?:s|ed|ing)? (?:like|of) (?:vinegar|fish|chemicals?|petrol|gasoline|gas|ammonia"
            r"|plastic|mou?ld|rot|bleach|solvent)\b",
            r"\b(?:strange|weird|odd|funny|bad|chemical) (?:smell|odou?r|taste)\b",
            r"\bmou?ld(?:y|ed)?\b",
            _near(
                r"\b(?:pills?|tablets?|capsules?|liquid|solution|cream|medicine|insulin|syrup|they|these"
                r"|it)\b",
                r"\bdiscolou?r\w*",
                30,
            ),
            r"\bcontaminat\w*",
            r"\bforeign (?:object|body|particle|matter)\b",
            r"\b(?:particles|something|bits|hairs?|glass) (?:floating )?(?:in|inside) (?:the |my )?(?:bottle"
            r"|vial|liquid|solution|pack|box|tablets?|syrup|pills?|pen)\b",
            r"\b(?:is|are|was|were|looks|looked|turned|gone) cloudy\b",
            r"\bcrumbl(?:ing|ed|es)\b",
            r"\bleak(?:ing|ed|s|y)\b",
        ),
        "tampered_product": (
            r"\b(?:seal|seals|safety seal|foil|blister|cap|lid|tamper[- ]evident \w+) (?:\w+ ){0,2}(?:was "
            r"|is |were |are |has been |had been |came |arrived )?(?:already )?(?:broken|open|opened|torn"
            r"|missing|tampered|punctured|ripped|cut|removed|peeled)\b",
            r"\bbroken seal\b",
            r"\btamper(?:ed|ing)\b",
            r"\b(?:already|previously) opened\b",
            r"\bopened before\b",
            r"\b(?:pills?|tablets?|capsules?) (?:were |are )?missing from (?:the )?(?:blister|pack|strip"
            r"|bottle)\b",
        ),
        "counterfeit": (
            r"\bcounterfeit\w*\b(?! (?:vouchers?|codes?|coupons?|money|notes?|bills?|banknotes?|cash"
            r"|currency|emails?|websites?|sites?|accounts?|reviews?)\b)",
            r"\bfake (?:pills?|tablets?|capsules?|medications?|medicines?|meds|drugs?|products?|pens?"
            r"|insulin|ozempic|viagra)\b",
            r"\b(?:pills?|tablets?|medication|medicine|meds|product|this|these|it|they"
            r"|those) (?:\w+ ){0,2}(?:is|are|was|were|look|looks|seem|seems) (?:\w+ )?(?:fake|counterfeit)\b",
            r"\bnot (?:genuine|authentic|the real (?:thing|product|medicine|brand))\b",
            r"\bknock-?offs?\b",
        ),
        "expired_product": (
            _near(
                r"\b(?:received|got|sent|delivered|arrived|came|shipped|dispensed|given)\b",
                r"\b(?:expired|out of date|past (?:the |its )?(?:expiry|expiration"
                r"|use[- ]by)) (?:\w+ )?(?:medicines?|medications?|meds|tablets|pills|capsules|pack|box"
                r"|bottle|inhaler|insulin|pens?|cream|syrup|drops)\b",
            ),
            _near(
                r"\b(?:medicines?|medications?|meds|tablets|pills|capsules|pack|box|bottle|inhaler|insulin"
                r"|pens?|cream|syrup|drops) (?:\w+ ){0,4}(?:received|got|sent|delivered|dispensed)\b",
                r"\b(?:expired|out of date|past (?:the |its )?(?:expiry|expiration|use[- ]by))\b",
                30,
            ),
            r"\b(?:expiry|expiration|best before|use[- ]by) date (?:on (?:the |my )?\w+ )?(?:is |was |has "
            r"|had )?(?:already )?(?:passed|gone|in the past|last (?:month|year|week))\b",
        ),
        "dispensing_error": (
            r"\bwrong (?:strength|dosage|dose|mg|concentration|patient)\b",
            r"\bwrong (?:labels?|(?:dosing |dosage )?instructions) on (?:the |my )?(?:box|bottle|pack|packet"
            r"|medicine|medication|tablets|pills|inhaler|pen)\b",
            r"\bwrong name on (?:the |my )?(?:label|box|package|bottle|prescription|bag)\b",
            r"\b(?:label|box|package|bottle) (?:says|said|shows|showed|reads) [^.!?\n]{0,40}\bbut\b",
            r"\b(?:someone|somebody) else'?s (?:name|prescription|medication|medicine|pills|label)\b",
            r"\b(?:another|a different) (?:patient|person)'?s? (?:name|prescription|medication)\b",
            r"\b\d+ ?(?:mg|mcg|ml) instead of (?:the )?\d+ ?(?:mg|mcg|ml)\b",
        ),
        "hospitalisation": (
            r"\bhospitali[sz]\w*",
            r"\b(?:went|gone|been|rushed|taken|brought|admitted|sent|ended up|landed|had to go|carried|was"
            r"|were|got) (?:straight |back |him |her )?(?:to|in|into|at) (?:the |a |an )?(?:hospital|er"
            r"|e\.r\.|a ?& ?e|emergency(?: room| department| ward)?|icu|intensive care|urgent care)\b",
            r"\bambulance\b",
            r"\bintensive care\b",
            r"\bcalled (?:911|999|112|an ambulance|poison control)\b",
            r"\bpoison (?:control|cent(?:er|re))\b",
        ),
        "death": (
            r"\b(?:he|she|they|husband|wife|partner|mother|mum|mom|father|dad|son|daughter|child|baby"
            r"|brother|sister|patient|friend|grandmother|grandfather|grandma|grandpa|aunt|uncle|person"
            r"|someone|man|woman|boy|girl) (?:\w+ ){0,2}(?:died|has died|passed away|is dead|was found dead"
            r"|did ?n'?t survive)\b",
            r"\bpassed away\b",
            r"\bfound dead\b",
            r"\bdeath\b",
            r"\bdeceased\b",
            r"\bfatal (?:reaction|overdose|outcome|event|case|dose|poisoning)\w*",
        ),
        "pregnancy_exposure": (
            _near(
                r"\b(?:pregnan\w*|breast ?feeding)\b",
                r"\b(?:took|taken|been taking|was taking|were taking|been on|was on|used|injected"
                r"|swallowed)\b",
            ),
            r"\bfound out (?:that )?(?:i'?m|i am|she'?s|she is|my wife is|my partner is) pregnant\b",
        ),
        "clinical_adverse_event": (
            r"\b(?:renal|kidney|liver|hepatic|cardiac|heart|respiratory|bone marrow|multi-?organ) (?:failure"
            r"|injury|damage|toxicity|arrest|insufficiency)\b",
            r"\b\w*toxicity\b",
            r"\b(?!(?:stress|exercise|noise|heat|cold|sun|light|motion|pregnancy|age|diet|sleep|travel"
            r"|weather|anxiety)-)\w+-(?:induced|associated)\b",
            r"\binduced by\b",
            r"\badverse (?:drug )?(?:event|reaction|effect)s?\b",
            r"\bcase report\b",
            r"\b(?:developed|presented with|experienced|suffered(?: from)?|diagnosed with"
            r"|complicated by) (?:a |an |severe |acute |fatal |life-threatening "
            r"|serious )?(?:\w+ ){0,2}(?:\w+(?:itis|osis|emia|aemia|pathy|penia|rrhage|rrhagia|lysis)"
            r"|syndrome|failure|toxicity|injury|arrest|infarction|insufficiency|o?edema|necrosis|thrombosis"
            r"|embolism|stroke|arrhythmia|fibrillation|angioedema)\b",
            r"\b(?:[\w-]+ )?(?:\w+(?:itis|osis|emia|aemia|pathy|penia|rrhage|lysis)|syndrome|failure"
            r"|toxicity|injury|infarction|necrosis|thrombosis|embolism|angioedema) (?:\w+ ){0,4}(?:after"
            r"|following|secondary to|associated with|caused by) (?:[\w-]+ ){0,2}(?:treatment|therapy"
            r"|administration|initiation|use|exposure|\w+(?:ine|ate|ol|mab|nib|ide|cin|vir|pril|sartan"
            r"|statin|azole|one|ium|fen|xib))\b",
        ),
    },
    "de": {
        "adverse_reaction": (
            r"\b(?:haut)?ausschlag\w*",
            r"\bnesselsucht\b",
            r"\bquaddeln\b",
            r"\bschwellung\w*",
            r"\b(?:an)?geschwollen\w*",
            r"\batemnot\b",
            r"\bkeine luft\b",
            r"\bkann (?:kaum |nicht (?:mehr )?|schlecht )atmen\b",
            r"\bkurzatmig\w*",
            r"\bschwind(?:e)?l\w*",
            r"\berbrech\w*",
            r"\berbrochen\b",
            r"\bubergeb\w*",
            r"\bubergeben\b",
            r"\bgekotzt\b",
            r"\bohnmacht\w*",
            r"\bbewusstlos\w*",
            r"\bzusammengebrochen\b",
            r"\bumgekippt\b",
            r"\bkrampfanf[ae]ll\w*",
            r"\bepileptische\w* anfall\w*",
            r"\bblutung\w*",
            r"\bblutet\w*",
            r"\bblut im (?:urin|stuhl)\b",
            r"\bnasenbluten\b",
            r"\bbrustschmerz\w*",
            r"\bschmerzen in der brust\b",
            r"\bherzrasen\b",
            r"\bherzstolpern\b",
            r"\bherzklopfen\b",
            r"\bhalluzin\w*",
            r"\bgelbsucht\b",
            r"\bgelbe (?:haut|augen)\b",
            r"\banaphyla\w*",
            r"\ballergische\w* (?:reaktion|schock)\w*",
            r"\breaktion auf\b",
            r"\bnebenwirkungen? seit\b",
            r"\b(?:habe|hatte|bekomme|bekam|leide an) (?:\w+ ){0,2}nebenwirkung\w*",
            r"\bdavon (?:ist|wurde|war) mir (?:so |total |sehr )?(?:schlecht|ubel|schwindelig)\b",
        ),
        "overdose": (
            r"\bdoppelte\w* dosis\b",
            r"\bdoppelt (?:genommen|eingenommen|dosiert|gespritzt)\b",
            r"\bzweimal (?:\w+ ){0,2}(?:genommen|eingenommen|gespritzt)\b",
            r"\bzwei dosen\b",
            r"\bzu viele? (?:\w+ )?(?:genommen|eingenommen|geschluckt)\b",
            r"\bzu viele (?:tabletten|pillen|kapseln)\b",
            r"\buberdosi\w*",
            r"\b(?:[5-9]|[1-9]\d+|funf|sechs|sieben|acht|neun|zehn|zwolf|zwanzig|alle) (?:\w+ )?(?:tabletten"
            r"|pillen|kapseln) (?:\w+ ){0,2}(?:genommen|eingenommen|geschluckt)\b",
        ),
        "accidental_ingestion": (
            _child_got_medicine(
                r"kind|sohn|tochter|enkel\w*|baby|kleinkind|hund|katze",
                r"verschluckt|geschluckt|gegessen|erwischt|gekommen|rangekommen",
                r"tablette\w*|pille\w*|kapsel\w*|medikament\w*|arznei\w*|saft|packung|davon",
            ),
            r"\bversehentlich (?:\w+ ){0,4}(?:genommen|eingenommen|geschluckt|gegeben|gespritzt)\b",
            r"\baus versehen (?:\w+ ){0,4}(?:genommen|eingenommen|geschluckt|gegeben)\b",
        ),
        "self_harm": (
            r"\balle (?:auf einmal |zusammen )?(?:nehmen|schlucken)\b",
            r"\bselbstmord\w*",
            r"\bsuizid\w*",
        ),
        "wrong_product": (
            r"\bfalsche\w* (?:medikament|arznei|tabletten|pillen|praparat)\w*",
            r"\bandere\w* (?:medikament|tabletten)\w* (?:in der|im) (?:packung|schachtel|karton)\b",
            r"\b(?:tabletten|pillen|kapseln) (?:\w+ ){0,2}(?:sehen|sahen) (?:\w+ ){0,2}(?:anders|komisch"
            r"|seltsam)\b",
            r"\bandere farbe\b",
        ),
        "product_defect": (
            r"\briech\w* (?:\w+ )?(?:komisch|seltsam|merkwurdig|streng|schlecht)\b",
            r"\bschimmel\w*",
            r"\bverfarbt\w*",
            r"\bverunreinig\w*",
        ),
        "tampered_product": (
            r"\b(?:siegel|versiegelung|verschluss|blister|folie) (?:\w+ ){0,2}(?:war |ist "
            r"|wurde )?(?:bereits |schon )?(?:gebrochen|geoffnet|aufgerissen|offen|kaputt|manipuliert)\b",
            r"\bmanipuliert\b",
            r"\b(?:schon|bereits) geoffnet\b",
        ),
        "counterfeit": (r"\bfalschung\w*", r"\bgefalscht\w*", r"\bnicht echt\b", r"\bplagiat\b"),
        "expired_product": (
            _near(
                r"\b(?:geliefert|bekommen|erhalten|zugeschickt|verschickt)\b",
                r"\b(?:abgelaufen|verfallen)\w*",
            ),
            r"\b(?:verfallsdatum|haltbarkeitsdatum|mhd) (?:\w+ ){0,2}(?:abgelaufen|uberschritten|vorbei)\b",
        ),
        "dispensing_error": (
            r"\bfalsche\w* (?:starke|dosierung|dosis|etikett|name|patient)\w*",
            r"\b(?:fremde\w*|anderen) name\w*\b",
        ),
        "hospitalisation": (
            r"\beingeliefert\b",
            r"\b(?:musste|mussten|wurde|wurden|bin|war|waren|lag|kam|sind) (?:\w+ ){0,3}(?:ins|im|in die"
            r"|in der|in eine|in einer) (?:krankenhaus|klinik|notaufnahme|intensivstation)\b",
            r"\bnotaufnahme\b",
            r"\bnotarzt\w*",
            r"\b(?:rettungswagen|krankenwagen)\b",
            r"\bintensivstation\b",
            r"\bgiftnotruf\b",
        ),
        "death": (
            r"\b(?:ist|sind|war) (?:\w+ ){0,2}(?:gestorben|verstorben|tot)\b",
            r"\bverstorben\b",
            r"\bstarb\b",
            r"\btodesfall\b",
            r"\btodlich\w*",
        ),
        "pregnancy_exposure": (
            _near(
                r"\b(?:schwanger\w*|stillzeit|stille)\b",
                r"\b(?:genommen|eingenommen|nahm|verwendet|gespritzt|angewendet)\b",
            ),
        ),
        "clinical_adverse_event": (
            r"\b(?:nieren|leber|herz|atem|multiorgan)(?:versagen|schaden|schadigung|insuffizienz)\b",
            r"\btoxizitat\b",
            r"\b\w+-(?:induziert|assoziiert)\w*",
            r"\bunerwunschte\w* (?:arzneimittel)?(?:wirkung|ereignis)\w*",
            r"\buaw\b",
            r"\bentwickelte (?:\w+ ){0,3}(?:\w+itis|\w+ose|\w+versagen|syndrom|toxizitat|reaktion"
            r"|ausschlag)\b",
        ),
    },
    "fr": {
        "adverse_reaction": (
            r"\beruption\w*",
            r"\bplaques rouges\b",
            r"\bboutons\b",
            r"\burticaire\b",
            r"\bgonfl\w*",
            r"\benfl(?:e|ee|es|ees|ure)\b",
            r"\boedeme\b",
            r"\b(?:n'arrive|narrive) (?:plus|pas) a respirer\b",
            r"\b(?:du mal|difficulte\w*) a respirer\b",
            r"\bessouffl\w*",
            r"\betouff\w*",
            r"\bvertiges?\b",
            r"\betourdi\w*",
            r"\btete qui tourne\b",
            r"\bvomi\w*",
            r"\bevanoui\w*",
            r"\bperte de connaissance\b",
            r"\bperdu connaissance\b",
            r"\bmalaise\b",
            r"\bconvulsions?\b",
            r"\bcrise d'epilepsie\b",
            r"\bsaign\w*",
            r"\bhemorragi\w*",
            r"\bdu sang dans (?:les |mes |ses )?(?:urines|selles)\b",
            r"\bdouleurs? (?:a la |dans la )?poitrine\b",
            r"\bdouleurs? thoracique\w*",
            r"\bpalpitations?\b",
            r"\bcoeur qui (?:bat|s'emballe)\w*",
            r"\btachycardi\w*",
            r"\bhallucinations?\b",
            r"\bjaunisse\b",
            r"\bictere\b",
            r"\bpeau jaune\b",
            r"\byeux jaunes\b",
            r"\banaphyla\w*",
            r"\breaction allergique\b",
            r"\breaction (?:a|au|aux)\b",
            r"\bm'(?:a|ont) rendue?s? malade\b",
            r"\beffets? (?:secondaires?|indesirables?) depuis\b",
            r"\bj'ai (?:\w+ ){0,2}(?:des |de )?effets? (?:secondaires?|indesirables?)\b",
        ),
        "overdose": (
            r"\bdouble dose\b",
            r"\bdose double\b",
            r"\bpris (?:\w+ ){0,2}deux fois\b",
            r"\bdeux doses\b",
            r"\bsurdos\w*",
            r"\bpris trop de\b",
            r"\btrop de (?:comprimes|cachets|gelules|pilules)\b",
            r"\b(?:pris|avale) (?:[5-9]|[1-9]\d+|cinq|six|sept|huit|neuf|dix|vingt) (?:\w+ )?(?:comprimes"
            r"|cachets|gelules|pilules)\b",
            r"\b(?:pris|avale) (?:toute la boite|toute la plaquette|tout le flacon)\b",
        ),
        "accidental_ingestion": (
            _child_got_medicine(
                r"enfant|fils|fille|bebe|petit-fils|petite-fille|chien|chat",
                r"avale\w*|mange\w*|ingere\w*",
                r"comprimes?|cachets?|gelules?|pilules?|medicaments?|sirop|boite|plaquette",
            ),
            r"\b(?:pris|avale|donne|injecte) (?:\w+ ){0,3}par erreur\b",
            r"\bpar erreur (?:\w+ ){0,3}(?:pris|avale|donne)\b",
        ),
        "self_harm": (r"\bles prendre tou(?:s|tes)\b", r"\btout avaler\b", r"\bsuicid\w*"),
        "wrong_product": (
            r"\bmauvais (?:medicament|produit|comprimes)\b",
            r"\b(?:comprimes|gelules|cachets|pilules) (?:\w+ ){0,2}(?:ont|sont|semblent"
            r"|paraissent) (?:\w+ ){0,2}(?:differente?s?|bizarres?|etranges?)\b",
            r"\bcouleur differente\b",
        ),
        "product_defect": (
            r"\bodeur (?:bizarre|etrange|forte|chimique)\b",
            r"\bsent (?:bizarre|mauvais|fort)\b",
            r"\bmoisi\w*",
            r"\bdecolore\w*",
        ),
        "tampered_product": (
            r"\b(?:pas d'|sans |aucun )(?:\w+ )?opercule\b",
            r"\b(?:opercule|scelle|sceau|bouchon|blister|film) (?:\w+ ){0,2}(?:etait |est "
            r"|a ete )?(?:deja )?(?:casse|ouvert|dechire|absent)\w*",
            r"\bdeja ouvert\w*",
            r"\bmanipule\w*",
        ),
        "counterfeit": (
            r"\bcontrefa\w*",
            r"\bfaux (?:medicaments?|comprimes)\b",
            r"\bpas authentique\b",
            r"\bfalsifi\w*",
        ),
        "expired_product": (_near(r"\b(?:recu|livre|envoye|arrive)\w*", r"\bperime\w*"),),
        "dispensing_error": (
            r"\bmauvais (?:dosage|nom|patient|etiquette)\b",
            r"\bmauvaise (?:dose|etiquette|posologie)\b",
        ),
        "hospitalisation": (
            r"\bhospitalis\w*",
            r"\baux urgences\b",
            r"\bsamu\b",
            r"\bambulance\b",
            r"\ben reanimation\b",
            r"\bcentre antipoison\b",
            r"\b(?:emmene|transporte|admis|amene|alle|passe|fini|suis|est|etait"
            r"|ete)e?s? (?:\w+ ){0,2}a l'hopital\b",
        ),
        "death": (
            r"\b(?:est|sont|etait) (?:\w+ ){0,2}(?:decede|mort)e?s?\b",
            r"\bdeces\b",
            r"\bmortel\w*",
            r"\bdecede\w*",
        ),
        "pregnancy_exposure": (
            _near(r"\b(?:enceinte|grossesse|allaite\w*)\b", r"\b(?:pris|prenais|avale|utilise)\b"),
        ),
        "clinical_adverse_event": (
            r"\binsuffisance (?:renale|hepatique|cardiaque|respiratoire)\b",
            r"\btoxicite\b",
            r"\binduite?s? par\b",
            r"\beffets? indesirables? grave\w*",
            r"\ba (?:developpe|presente) (?:\w+ ){0,3}(?:\w+ite|syndrome|insuffisance|toxicite|reaction"
            r"|eruption)\b",
        ),
    },
    "es": {
        "adverse_reaction": (
            r"\bsarpullido\w*",
            r"\berupcion\w*",
            r"\bronchas\b",
            r"\burticaria\b",
            r"\bmanchas rojas\b",
            r"\bhinchaz\w*",
            r"\bhinchad[oa]s?\b",
            r"\bse me hincho\b",
            r"\bno puedo respirar\b",
            r"\bdificultad (?:para|al) respirar\b",
            r"\bme cuesta respirar\b",
            r"\bme ahogo\b",
            r"\bfalta de aire\b",
            r"\bmare(?:o|os|ad[oa]s?)\b",
            r"\bvertigos?\b",
            r"\bvomit\w*",
            r"\bdesmay\w*",
            r"\bperdi(?:o)? el conocimiento\b",
            r"\bconvulsi\w*",
            r"\bataque epileptico\b",
            r"\bsangrado\w*",
            r"\bsangra(?:ndo)?\b",
            r"\bsangre en (?:la |el |las )?(?:orina|heces|vomito)\b",
            r"\bhemorragi\w*",
            r"\bdolor (?:en el |de )?pecho\b",
            r"\bdolor toracico\b",
            r"\bpalpitaciones\b",
            r"\btaquicardi\w*",
            r"\balucinacion\w*",
            r"\bictericia\b",
            r"\bpiel amarilla\b",
            r"\bojos amarillos\b",
            r"\banafila\w*",
            r"\breaccion alergica\b",
            r"\breaccion (?:a|al)\b",
            r"\bme (?:sento|ha sentado|hizo|hicieron|han hecho) (?:muy )?(?:mal|dano)\b",
            r"\befectos? secundarios? desde\b",
            r"\b(?:tengo|tuve|he tenido|sufro) (?:\w+ ){0,2}efectos? secundarios?\b",
        ),
        "overdose": (
            r"\bdoble dosis\b",
            r"\bdosis doble\b",
            r"\bdos dosis\b",
            r"\b(?:tome|tomo|ha tomado|he tomado) (?:\w+ ){0,2}dos veces\b",
            r"\bsobredosis\b",
            r"\b(?:tome|tomo|ha tomado|he tomado) demasiad[oa]s?\b",
            r"\bdemasiadas (?:pastillas|pildoras|capsulas|tabletas)\b",
            r"\bdemasiados comprimidos\b",
            r"\b(?:tome|tomo|se tomo|me tome|ha tomado|trago|trague) (?:[5-9]|[1-9]\d+|cinco|seis|siete|ocho"
            r"|nueve|diez|veinte|toda la caja) (?:\w+ )?(?:pastillas|pildoras|capsulas|tabletas"
            r"|comprimidos)\b",
        ),
        "accidental_ingestion": (
            _child_got_medicine(
                r"nino|nina|hijo|hija|bebe|nieto|nieta|perro|gato",
                r"se trago|trago|se comio|comio|ingirio",
                r"pastillas?|pildoras?|capsulas?|comprimidos?|tabletas?|medicamentos?|medicinas?|jarabe|caja",
            ),
            r"\b(?:tome|tomo|ha tomado|trago|trague|di|dio|le di) (?:\w+ ){0,3}por (?:error|equivocacion)\b",
            r"\bpor (?:error|equivocacion) (?:\w+ ){0,3}(?:tome|tomo|trago|trague)\b",
        ),
        "self_harm": (r"\btomarmelas todas\b", r"\btomarme todas\b", r"\bsuicid\w*"),
        "wrong_product": (
            r"\b(?:medicamento|pastillas|comprimidos) (?:equivocad|incorrect)[oa]s?\b",
            r"\b(?:pastillas|comprimidos|capsulas|tabletas) (?:\w+ ){0,2}(?:se ven|son"
            r"|parecen) (?:\w+ )?(?:diferentes|raras|raros|distint[oa]s|extran[oa]s)\b",
            r"\bcolor diferente\b",
        ),
        "product_defect": (
            r"\bhuele\w* (?:raro|mal|extrano|fuerte)\b",
            r"\bolor (?:raro|extrano|fuerte)\b",
            r"\bmoho\b",
            r"\bdescolorid\w*",
        ),
        "tampered_product": (
            r"\b(?:precinto|sello|tapa|blister|lamina) (?:\w+ ){0,2}(?:estaba |esta |venia "
            r"|llego )?(?:ya )?(?:roto|abierto|rasgado|manipulado|despegado)\b",
            r"\bya abiert[oa]\b",
            r"\bmanipulad[oa]\b",
        ),
        "counterfeit": (r"\bfalsificad\w*", r"\bno (?:es|son|parece|parecen) (?:original|autentic)\w*"),
        "expired_product": (
            _near(r"\b(?:recibi|llego|enviaron|mandaron|entregaron)\b", r"\b(?:caducad|vencid)[oa]s?\b"),
        ),
        "dispensing_error": (
            r"\bdosis (?:equivocada|incorrecta)\b",
            r"\bnombre (?:equivocado|incorrecto|de otra persona)\b",
        ),
        "hospitalisation": (
            r"\bhospitaliz\w*",
            r"\bingresad[oa]\b",
            r"\burgencias\b",
            r"\bambulancia\b",
            r"\bcuidados intensivos\b",
            r"\b(?:fui|fue|llevaron|llevamos|acabe|acabo|termine|termino|estuve|estuvo) (?:\w+ ){0,2}(?:al"
            r"|en el) hospital\b",
        ),
        "death": (
            r"\bmurio\b",
            r"\bfallecio\b",
            r"\bha (?:muerto|fallecido)\b",
            r"\bfallecimiento\b",
            r"\bmuerte\b",
        ),
        "pregnancy_exposure": (
            _near(
                r"\b(?:embarazad[oa]|embarazo|lactancia|amamant\w*)\b",
                r"\b(?:tome|tomado|tomaba|use|usado)\b",
            ),
        ),
        "clinical_adverse_event": (
            r"\binsuficiencia (?:renal|hepatica|cardiaca|respiratoria)\b",
            r"\btoxicidad\b",
            r"\binducid[oa]s? por\b",
            r"\breaccion(?:es)? adversas?\b",
            r"\bevento adverso\b",
            r"\b(?:desarrollo|presento) (?:\w+ ){0,3}(?:\w+itis|sindrome|insuficiencia|toxicidad|reaccion"
            r"|erupcion)\b",
        ),
    },
    "it": {
        "adverse_reaction": (
            r"\beruzion\w*",
            r"\bsfogo\b",
            r"\borticaria\b",
            r"\bmacchie rosse\b",
            r"\bgonfior\w*",
            r"\bgonfi[oae]\b",
            r"\bgonfiat\w*",
            r"\bedema\b",
            r"\bnon riesco a respirare\b",
            r"\bdifficolta (?:a|nel) respirare\b",
            r"\bfiato corto\b",
            r"\bmi manca (?:il respiro|l'aria)\b",
            r"\bvertigin\w*",
            r"\bcapogir\w*",
            r"\bgiramenti di testa\b",
            r"\bgira la testa\b",
            r"\bvomit\w*",
            r"\bsvenut[oa]\b",
            r"\bsvenimento\b",
            r"\bperso (?:i sensi|conoscenza)\b",
            r"\bconvulsion\w*",
            r"\bcrisi epilettic\w*",
            r"\bsanguinament\w*",
            r"\bsanguin[ao]\b",
            r"\bemorragi\w*",
            r"\bsangue nell[ae] (?:urine|feci)\b",
            r"\bdolore (?:al petto|toracic\w*)\b",
            r"\bpalpitazion\w*",
            r"\btachicardi\w*",
            r"\ballucinazion\w*",
            r"\bittero\b",
            r"\bpelle gialla\b",
            r"\bocchi gialli\b",
            r"\banafila\w*",
            r"\breazione allergica\b",
            r"\breazione (?:a|al|alla|allo)\b",
            r"\bmi (?:ha|hanno) fatto (?:stare )?male\b",
            r"\beffett[oi] collateral[ei] da quando\b",
            r"\bho (?:avuto )?(?:\w+ ){0,2}effetti collaterali\b",
        ),
        "overdose": (
            r"\bdoppia dose\b",
            r"\bdose doppia\b",
            r"\bdue dosi\b",
            r"\bpres[oa] (?:\w+ ){0,2}due volte\b",
            r"\bsovradosaggio\b",
            r"\btroppe (?:pastiglie|compresse|pillole|capsule)\b",
            r"\bpreso troppe?\b",
            r"\b(?:preso|ingerito) (?:[5-9]|[1-9]\d+|cinque|sei|sette|otto|nove|dieci|venti"
            r"|tutta la scatola) (?:\w+ )?(?:pastiglie|compresse|pillole|capsule)\b",
        ),
        "accidental_ingestion": (
            _child_got_medicine(
                r"bambin[oa]|figli[oa]|neonato|nipote|cane|gatto",
                r"ingoiato|inghiottito|mangiato|ingerito",
                r"pastigli[ae]|compress[ae]|pillol[ae]|capsul[ae]|farmac[oi]|medicin[ae]|sciroppo|scatola",
            ),
            r"\b(?:preso|ingerito|ingoiato|dato|somministrato) (?:\w+ ){0,3}per (?:sbaglio|errore)\b",
            r"\bper (?:sbaglio|errore) (?:\w+ ){0,3}(?:preso|ingerito|ingoiato)\b",
        ),
        "self_harm": (r"\bprenderle tutte\b", r"\bsuicid\w*"),
        "wrong_product": (
            r"\b(?:farmaco|medicinale|prodotto) sbagliato\b",
            r"\bmedicina sbagliata\b",
            r"\bcompresse sbagliate\b",
            r"\b(?:compresse|pastiglie|pillole) (?:\w+ ){0,2}(?:sembrano|sono) (?:\w+ )?(?:divers[ei]"
            r"|strane)\b",
            r"\bcolore diverso\b",
        ),
        "product_defect": (
            r"\bodore (?:strano|forte|cattivo)\b",
            r"\bpuzza\b",
            r"\bmuff\w*",
            r"\bscolorit\w*",
        ),
        "tampered_product": (
            r"\b(?:sigillo|tappo|blister|sigillatura) (?:\w+ ){0,2}(?:era |e |risultava )?(?:gia )?(?:rotto"
            r"|aperto|strappato|manomesso)\b",
            r"\bmanomess\w*",
            r"\bgia apert[oa]\b",
        ),
        "counterfeit": (r"\bcontraffatt\w*", r"\bfalsificat\w*", r"\bnon (?:e |sono )?original[ei]\b"),
        "expired_product": (_near(r"\b(?:ricevut|arrivat|consegnat|spedit)\w*", r"\bscadut[oaie]\b"),),
        "dispensing_error": (r"\bdosaggio sbagliato\b", r"\bdose sbagliata\b", r"\bnome sbagliato\b"),
        "hospitalisation": (
            r"\bricoverat\w*",
            r"\bpronto soccorso\b",
            r"\bambulanza\b",
            r"\bterapia intensiva\b",
            r"\brianimazione\b",
            r"\b(?:portat|andat|finit|stat)[oaie] (?:\w+ ){0,2}in ospedale\b",
            r"\bcentro antiveleni\b",
        ),
        "death": (
            r"\b(?:e|sono) (?:\w+ ){0,2}(?:mort|decedut)[oaie]\b",
            r"\bdecesso\b",
            r"\bmorte\b",
            r"\bdeceduto\b",
        ),
        "pregnancy_exposure": (
            _near(r"\b(?:incinta|gravidanza|allatt\w*)\b", r"\b(?:preso|prendevo|assunto|usato)\b"),
        ),
        "clinical_adverse_event": (
            r"\binsufficienza (?:renale|epatica|cardiaca|respiratoria)\b",
            r"\btossicita\b",
            r"\bindott[oaie] da\b",
            r"\breazion[ei] avvers[ae]\b",
            r"\bevento avverso\b",
            r"\bha (?:sviluppato|presentato) (?:\w+ ){0,3}(?:\w+ite|sindrome|insufficienza|tossicita"
            r"|reazione|eruzione)\b",
        ),
    },
    "pt": {
        "adverse_reaction": (
            r"\berupc\w*",
            r"\burticaria\b",
            r"\bbrotoeja\w*",
            r"\bmanchas vermelhas\b",
            r"\binchac\w*",
            r"\binchad[oa]s?\b",
            r"\bnao consigo respirar\b",
            r"\bfalta de ar\b",
            r"\bdificuldade (?:para|em|de) respirar\b",
            r"\btontur\w*",
            r"\btont[oa]s?\b",
            r"\bvertigem\b",
            r"\bvomit\w*",
            r"\bdesmai\w*",
            r"\bperd(?:i|eu) os sentidos\b",
            r"\bconvuls\w*",
            r"\bcrise epileptica\b",
            r"\bsangramento\w*",
            r"\bsangrando\b",
            r"\bhemorragi\w*",
            r"\bsangue na (?:urina|fezes)\b",
            r"\bdor no peito\b",
            r"\bdor toracica\b",
            r"\bpalpitac\w*",
            r"\btaquicardi\w*",
            r"\balucinac\w*",
            r"\bictericia\b",
            r"\bpele amarela\b",
            r"\bolhos amarelos\b",
            r"\banafila\w*",
            r"\breacao alergica\b",
            r"\breacao (?:a|ao)\b",
            r"\bme (?:fez|fizeram) mal\b",
            r"\befeitos? colatera\w* desde\b",
            r"\b(?:tenho|tive|estou com) (?:\w+ ){0,2}efeitos? colatera\w*",
        ),
        "overdose": (
            r"\bdose dupla\b",
            r"\bdupla dose\b",
            r"\bduas doses\b",
            r"\btomei (?:\w+ ){0,2}duas vezes\b",
            r"\bsobredosagem\b",
            r"\bsuperdosagem\b",
            r"\btomei (?:\w+ )?(?:demais|a mais)\b",
            r"\bcomprimidos a mais\b",
        ),
        "accidental_ingestion": (
            _child_got_medicine(
                r"crianca|filh[oa]|bebe|net[oa]|cao|cachorro|gato",
                r"engoliu|comeu|ingeriu",
                r"comprimidos?|pilulas?|capsulas?|remedios?|medicamentos?|xarope|caixa",
            ),
            r"\b(?:tomei|tomou|engoli|engoliu|dei|deu) (?:\w+ ){0,3}(?:por engano|sem querer)\b",
            r"\b(?:por engano|sem querer) (?:\w+ ){0,3}(?:tomei|tomou|engoli|engoliu)\b",
        ),
        "self_harm": (r"\btomar todos de uma vez\b", r"\bsuicid\w*"),
        "wrong_product": (
            r"\b(?:medicamento|remedio) errado\b",
            r"\bcomprimidos errados\b",
            r"\bcomprimidos (?:\w+ ){0,2}(?:parecem|estao|sao) (?:\w+ )?(?:diferentes|estranhos)\b",
            r"\bcor diferente\b",
        ),
        "product_defect": (r"\bcheiro (?:estranho|forte|esquisito)\b", r"\bmofo\b", r"\bbolor\b"),
        "tampered_product": (
            r"\b(?:lacre|selo|tampa|blister) (?:\w+ ){0,2}(?:estava |veio |chegou )?(?:ja )?(?:rompido"
            r"|aberto|violado|rasgado)\b",
            r"\bviolad[oa]\b",
        ),
        "counterfeit": (r"\bfalsificad\w*", r"\bnao (?:e|sao|parece|parecem) original\w*", r"\bpirata\b"),
        "expired_product": (
            _near(
                r"\b(?:recebi|chegou|enviaram|entregaram)\b",
                r"\b(?:vencid|expirad)[oa]s?\b|\bfora (?:do|de) (?:prazo|validade)\b",
            ),
        ),
        "dispensing_error": (r"\b(?:dosagem|dose) errada\b", r"\bnome errado\b"),
        "hospitalisation": (
            r"\binternad[oa]\w*",
            r"\bhospitaliz\w*",
            r"\bpronto[- ]socorro\b",
            r"\bambulancia\b",
            r"\buti\b",
            r"\b(?:fui|foi|levaram|levei|acabei|acabou) (?:\w+ ){0,2}(?:ao|no|para o) hospital\b",
        ),
        "death": (r"\bmorreu\b", r"\bfaleceu\b", r"\bfalecimento\b", r"\bobito\b"),
        "pregnancy_exposure": (
            _near(
                r"\b(?:gravida|gravidez|amamentando|amamentacao)\b", r"\b(?:tomei|tomado|tomava|usei|usado)\b"
            ),
        ),
        "clinical_adverse_event": (
            r"\btoxicidade\b",
            r"\binduzid[oa]s? por\b",
            r"\breac(?:ao|oes) advers[ao]s?\b",
            r"\b(?:desenvolveu|apresentou) (?:\w+ ){0,3}(?:\w+ite|sindrome|insuficiencia|toxicidade|reacao"
            r"|erupcao)\b",
        ),
    },
    "nl": {
        "adverse_reaction": (
            r"\b(?:huid)?uitslag\b",
            r"\bnetelroos\b",
            r"\bbultjes\b",
            r"\brode vlekken\b",
            r"\bzwelling\w*",
            r"\b(?:op)?gezwollen\b",
            r"\bkan (?:niet|nauwelijks|moeilijk) ademen\b",
            r"\bbenauwd\w*",
            r"\bkortademig\w*",
            r"\bademnood\b",
            r"\bduizel\w*",
            r"\bovergeven\b",
            r"\bovergegeven\b",
            r"\bgeef over\b",
            r"\bbraken\b",
            r"\bbraakte\b",
            r"\bflauwgevallen\b",
            r"\bflauwvallen\b",
            r"\bviel flauw\b",
            r"\bbewusteloos\b",
            r"\bepileptische aanval\b",
            r"\bstuip\w*",
            r"\bbloeding\w*",
            r"\bbloed(?:t|de)\b",
            r"\bbloed in (?:mijn |de )?(?:urine|ontlasting)\b",
            r"\bpijn op de borst\b",
            r"\bborstpijn\b",
            r"\bhartkloppingen\b",
            r"\bhart (?:bonkt|gaat tekeer|klopt (?:heel )?snel)\b",
            r"\bhallucin\w*",
            r"\bgeelzucht\b",
            r"\bgele (?:huid|ogen)\b",
            r"\banafyla\w*",
            r"\ballergische reactie\b",
            r"\breactie op\b",
            r"\bwerd (?:ik|hij|zij|ze) (?:\w+ )?ziek van\b",
            r"\bziek van (?:de|die|deze)\b",
            r"\bbijwerkingen? sinds\b",
            r"\b(?:heb|had|krijg|kreeg) (?:\w+ ){0,2}bijwerking\w*",
        ),
        "overdose": (
            r"\bdubbele dosis\b",
            r"\btwee keer (?:\w+ )?(?:ingenomen|genomen)\b",
            r"\btwee doses\b",
            r"\bdubbel (?:ingenomen|genomen)\b",
            r"\boverdosis\b",
            r"\bte veel (?:\w+ )?(?:ingenomen|genomen|geslikt)\b",
            r"\bte veel (?:pillen|tabletten)\b",
        ),
        "accidental_ingestion": (
            _child_got_medicine(
                r"kind|zoon|dochter|baby|peuter|kleinkind|hond|kat",
                r"ingeslikt|opgegeten|doorgeslikt|gegeten",
                r"pillen|pil|tabletten?|capsules?|medicijn\w*|medicatie|siroop|doosje|strip",
            ),
            r"\bper (?:ongeluk|vergissing) (?:\w+ ){0,4}(?:ingenomen|genomen|ingeslikt|gegeten|gegeven)\b",
            # Dutch puts the verb last: "mijn dochter heeft ... ijzertabletten ingeslikt".
            r"\b(?:kind|zoon|dochter|baby|peuter|kleinkind|hond|kat)\b(?:\W+\w+){0,8}?\W+\w*(?:pillen|pil"
            r"|tabletten|capsules|medicijnen|medicatie|siroop)\b(?:\W+\w+){0,3}?\W+(?:ingeslikt|opgegeten"
            r"|doorgeslikt|gegeten)\b",
        ),
        "self_harm": (r"\bze allemaal (?:innemen|nemen|slikken)\b", r"\bzelfmoord\w*"),
        "wrong_product": (
            r"\bverkeerde (?:medicijn\w*|medicatie|pillen|tabletten|geneesmiddel\w*)\b",
            r"\b(?:pillen|tabletten|capsules) (?:\w+ ){0,2}(?:zien|zagen) (?:er )?(?:\w+ )?(?:anders|vreemd"
            r"|raar) uit\b",
            r"\bandere kleur\b",
        ),
        "product_defect": (
            r"\bruik\w* (?:\w+ )?(?:vreemd|raar|vies|sterk)\b",
            r"\bvreemde geur\b",
            r"\bschimmel\w*",
            r"\bverkleurd\b",
        ),
        "tampered_product": (
            r"\b(?:zegel|verzegeling|dop|doordrukstrip|folie|blister) (?:\w+ ){0,2}(?:was |is "
            r"|werd )?(?:al )?(?:gebroken|open|geopend|gescheurd)\b",
            r"\bal geopend\b",
            r"\bgemanipuleerd\b",
        ),
        "counterfeit": (
            r"\bnamaak\w*",
            r"\bvervalst\w*",
            r"\bnep(?:medicijn\w*|pillen)\b",
            r"\bnep (?:medicijnen|pillen|tabletten)\b",
        ),
        "expired_product": (
            _near(r"\b(?:ontvangen|geleverd|gekregen|kreeg|bezorgd)\b", r"\b(?:verlopen|over de datum)\b"),
        ),
        "dispensing_error": (r"\bverkeerde (?:sterkte|dosering|dosis|etiket|naam)\b",),
        "hospitalisation": (
            r"\b(?:moest|moesten|werd|ben|was|lag|kwam|gebracht) (?:\w+ ){0,3}(?:naar|in) het ziekenhuis\b",
            r"\bopgenomen in\b",
            r"\bspoedeisende hulp\b",
            r"\bambulance\b",
            r"\bintensive care\b",
        ),
        "death": (r"\boverleden\b", r"\boverleed\b", r"\bgestorven\b", r"\bstierf\b", r"\bdodelijk\w*"),
        "pregnancy_exposure": (
            _near(r"\b(?:zwanger\w*|borstvoeding)\b", r"\b(?:genomen|ingenomen|nam|gebruikt)\b"),
        ),
        "clinical_adverse_event": (
            r"\b(?:nier|lever|hart)(?:falen|schade|insufficientie)\b",
            r"\btoxiciteit\b",
            r"\b\w+-geinduceerd\w*",
            r"\bgeinduceerd door\b",
            r"\bernstige bijwerking\w*",
            r"\bontwikkelde (?:\w+ ){0,3}(?:\w+itis|syndroom|falen|toxiciteit|reactie|uitslag)\b",
        ),
    },
    "pl": {
        "adverse_reaction": (
            r"\bwysypk\w*",
            r"\bpokrzywk\w*",
            r"\bczerwone plamy\b",
            r"\bobrzek\w*",
            r"\b(?:s|o)puchniet\w*",
            r"\b(?:s|o)puchl\w*",
            r"\bnie moge oddychac\b",
            r"\bdusznos\w*",
            r"\bdusze sie\b",
            r"\bbrak(?:uje mi)? (?:tchu|powietrza)\b",
            r"\bzawrot\w* glowy\b",
            r"\bkreci mi sie w glowie\b",
            r"\bwymiot\w*",
            r"\bzwymiotowal\w*",
            r"\bzemdl\w*",
            r"\bomdleni\w*",
            r"\bstracil\w* przytomnosc\b",
            r"\bnieprzytomn\w*",
            r"\bdrgawk\w*",
            r"\bnapad padaczk\w*",
            r"\bkrwawi\w*",
            r"\bkrew w (?:moczu|kale|stolcu)\b",
            r"\bkrwotok\w*",
            r"\bbol\w* w klatce piersiowej\b",
            r"\bkolatani\w* serca\b",
            r"\btachykardi\w*",
            r"\bhalucynacj\w*",
            r"\bzoltaczk\w*",
            r"\bzolta skora\b",
            r"\bzolte oczy\b",
            r"\banafila\w*",
            r"\breakcj\w* alergiczn\w*",
            r"\breakcj\w* na\b",
            r"\bskutk\w* uboczn\w* od\b",
            r"\b(?:mam|mialem|mialam) (?:\w+ ){0,2}(?:skutki uboczne|dzialania niepozadane)\b",
        ),
        "overdose": (
            r"\bpodwojn\w* dawk\w*",
            r"\bdwie dawki\b",
            r"\b(?:wzial\w*|przyjal\w*) (?:\w+ ){0,2}dwa razy\b",
            r"\bdwa razy (?:\w+ ){0,2}(?:wzial|przyjal|lyknal)\w*",
            r"\bprzedawkowa\w*",
            r"\bza duzo (?:tabletek|leku|pigulek|tabletki)\b",
        ),
        "accidental_ingestion": (
            _child_got_medicine(
                r"dziecko|syn|synek|corka|coreczka|wnuk|wnuczka|pies|kot",
                r"polknal\w*|polknela|zjadl\w*",
                r"tabletk\w*|pigulk\w*|kapsulk\w*|lek\w*|syrop\w*|opakowani\w*",
            ),
            r"\b(?:przez pomylke|przypadkiem|przez przypadek) (?:\w+ ){0,3}(?:wzial\w*|polknal\w*|zjadl\w*"
            r"|przyjal\w*)\b",
        ),
        "self_harm": (r"\bwziac wszystkie\b", r"\bsamoboj\w*"),
        "wrong_product": (
            r"\b(?:zly|niewlasciwy|inny) lek\b",
            r"\bzle tabletki\b",
            r"\btabletki (?:\w+ ){0,2}(?:wygladaja|sa) (?:\w+ )?(?:inaczej|dziwnie|inne)\b",
            r"\binny kolor\b",
        ),
        "product_defect": (r"\bdziwny zapach\b", r"\bdziwnie pachn\w*", r"\bplesn\w*"),
        "tampered_product": (
            r"\b(?:plomba|zabezpieczenie|nakretka|blister|folia) (?:\w+ ){0,2}(?:byla |bylo "
            r"|jest )?(?:juz )?(?:zerwan|otwart|rozerwan|naruszon)\w*",
        ),
        "counterfeit": (r"\bpodrob\w*", r"\bfalsyfikat\w*", r"\bnie (?:jest |sa )?oryginaln\w*"),
        "expired_product": (_near(r"\b(?:otrzymal|dostal|przyszl|dostarczon)\w*", r"\bprzeterminowan\w*"),),
        "dispensing_error": (r"\b(?:zla|niewlasciwa) (?:dawk[ai]|moc|etykiet[ai])\b",),
        "hospitalisation": (
            r"\b(?:trafil\w*|zabral\w*|zabrali|bylem|bylam|byl|byla|lezal\w*"
            r"|przewiezion\w*) (?:\w+ ){0,3}(?:do |w )szpital\w*",
            r"\bhospitalizowan\w*",
            r"\bpogotowi\w*",
            r"\bkaretk\w*",
            r"\bizba przyjec\b",
            r"\bintensywnej terapii\b",
        ),
        "death": (r"\bzmarl\w*", r"\bumarl\w*", r"\bnie zyje\b", r"\bsmierc\w*", r"\bzgon\w*"),
        "pregnancy_exposure": (
            _near(
                r"\b(?:w ciazy|ciaz[ay]|karmie piersia|karmienia)\b",
                r"\b(?:wzielam|wzialem|bralam|przyjelam|przyjmowalam|stosowalam|uzywalam)\b",
            ),
        ),
        "clinical_adverse_event": (
            r"\bniewydolnos\w* (?:nerek|watroby|serca|oddechow\w*)\b",
            r"\btoksycznos\w*",
            r"\bwywolan\w* przez\b",
            r"\bzdarzeni\w* niepozadan\w*",
        ),
    },
}

# Self-harm phrases never cancelled by a question or a negation: they are the negation.
_SELF_HARM_ALWAYS: dict[str, tuple[str, ...]] = {
    "en": (
        r"\b(?:don'?t|do not|dont|never) want to (?:wake up|live|be here|be alive|go on"
        r"|exist)\b(?! (?:at night|during the night|in the night|early|so early|to|for|every|with|groggy"
        r"|tired|feeling|in the middle)\b)",
        r"\bnot want to (?:wake up|live)\b",
        r"\bjust take (?:them|all of them) all\b",
        r"\btake all (?:of )?(?:my|the) (?:pills|tablets|meds) at once\b",
        r"\bswallow them all\b",
        r"\b(?:want|going|plan|planning|ready|thinking about|think about) to end (?:it|it all|my life"
        r"|things)\b",
        r"\bend it all\b",
        r"\bend my life\b",
        r"\bkill (?:myself|me)\b",
        r"\bwant to die\b(?! (?:my|her|his|the|it)\b)",
        r"\bwish i (?:was|were) dead\b",
        r"\bbetter off dead\b",
        r"\bno reason to live\b",
        r"\b(?:hurt|harm|cut) myself\b",
        r"\boverdose on purpose\b",
    ),
    "de": (
        r"\b(?:nicht|nie) mehr aufwachen\b",
        r"\bmich umbringen\b",
        r"\bmir das leben nehmen\b",
        r"\bnicht mehr leben\b",
        r"\bmein leben beenden\b",
        r"\b(?:sterben will|will sterben)\b",
        r"\bmich (?:selbst )?verletzen\b",
    ),
    "fr": (
        r"\bne (?:plus|pas) me reveiller\b",
        r"\bme suicider\b",
        r"\ben finir\b",
        r"\bmettre fin a mes jours\b",
        r"\bme tuer\b",
        r"\benvie de mourir\b",
        r"\bveux mourir\b",
        r"\bme faire du mal\b",
    ),
    "es": (
        r"\bno (?:quiero )?despertar(?:me)?\b(?! (?:por la noche|de noche|en la noche|temprano|tan temprano"
        r"|para)\b)",
        r"\bquitarme la vida\b",
        r"\bacabar con todo\b",
        r"\bquiero morir(?:me)?\b",
        r"\bno quiero vivir\b",
        r"\bmatarme\b",
        r"\bhacerme dano\b",
    ),
    "it": (
        r"\bnon svegliarmi piu\b",
        r"\bfarla finita\b",
        r"\buccidermi\b",
        r"\bvoglio morire\b",
        r"\btogliermi la vita\b",
        r"\bfarmi del male\b",
    ),
    "pt": (
        r"\bnao acordar mais\b",
        r"\bme matar\b",
        r"\bmatar-me\b",
        r"\bacabar com tudo\b",
        r"\bquero morrer\b",
        r"\btirar a (?:minha )?(?:propria )?vida\b",
        r"\bme machucar\b",
    ),
    "nl": (
        r"\bniet (?:meer )?wakker (?:te )?worden\b",
        r"\ber een einde aan maken\b",
        r"\bmijn leven beeindigen\b",
        r"\bwil (?:niet meer leven|dood)\b",
        r"\bdood willen\b",
        r"\bmezelf (?:iets )?aandoen\b",
    ),
    "pl": (
        r"\bnie (?:chce sie )?obudzic\b",
        r"\bzabic sie\b",
        r"\bskonczyc z (?:tym|soba)\b",
        r"\bchce umrzec\b",
        r"\bnie chce zyc\b",
        r"\bzrobic sobie krzywde\b",
    ),
}

# Mild, common symptoms: only a signal when tied to a medicine ("since I started", "from the
# tablets"), otherwise "I have a headache, what can I take?" would raise.
_LINKED_SYMPTOMS: dict[str, tuple[str, ...]] = {
    "en": (
        r"\bheadaches?\b",
        r"\bmigraines?\b",
        r"\bnause\w*",
        r"\bnaus[ie]ous\b",
        r"\bdiarrh?o?ea\b",
        r"\bconstipat\w*",
        r"\bstomach (?:ache|pains?|cramps?|upset)\b",
        r"\bcramps?\b",
        r"\binsomnia\b",
        r"\bcan'?t sleep\b",
        r"\bdrows\w*",
        r"\btired(?:ness)?\b",
        r"\bfatigue\b",
        r"\bitch\w*",
        r"\bhair loss\b",
        r"\bmuscle (?:pains?|aches?|cramps?)\b",
        r"\bjoint pains?\b",
        r"\bmood swings\b",
        r"\b(?:feel|felt|feeling) (?:so |really |very )?(?:sick|ill|unwell|awful|terrible|weird|strange|off"
        r"|funny|horrible)\b",
    ),
    "de": (
        r"\bkopfschmerz\w*",
        r"\bubelkeit\b",
        r"\bmir (?:ist|war|wurde) (?:so |total |sehr |ganz )?(?:schlecht|ubel)\b",
        r"\bdurchfall\b",
        r"\bmagenschmerz\w*",
        r"\bbauchschmerz\w*",
        r"\bschlaflos\w*",
        r"\bmudigkeit\b",
        r"\bjuck\w*",
        r"\bhaarausfall\b",
    ),
    "fr": (
        r"\bmaux? de (?:tete|ventre|estomac)\b",
        r"\bmal (?:a la tete|au ventre|a l'estomac)\b",
        r"\bnausee\w*",
        r"\bdiarrhee\w*",
        r"\binsomnie\w*",
        r"\bfatigue\w*",
        r"\bdemangeaison\w*",
        r"\bchute de cheveux\b",
        r"\bje me sens (?:mal|bizarre)\b",
    ),
    "es": (
        r"\bdolor de (?:cabeza|estomago|barriga|tripa)\b",
        r"\bnauseas?\b",
        r"\bdiarrea\b",
        r"\binsomnio\b",
        r"\bcansancio\b",
        r"\bpicor\w*",
        r"\bcomezon\b",
        r"\bcaida del pelo\b",
        r"\bme siento (?:mal|raro|rara|fatal)\b",
    ),
    "it": (
        r"\bmal di (?:testa|stomaco|pancia)\b",
        r"\bnausea\b",
        r"\bdiarrea\b",
        r"\binsonnia\b",
        r"\bstanchezza\b",
        r"\bprurito\b",
        r"\bcaduta dei capelli\b",
        r"\bmi sento male\b",
    ),
    "pt": (
        r"\bdor de (?:cabeca|barriga|estomago)\b",
        r"\bnausea\w*",
        r"\benjoo\w*",
        r"\bdiarreia\b",
        r"\binsonia\b",
        r"\bcansaco\b",
        r"\bcoceira\b",
        r"\bcomichao\b",
        r"\bqueda de cabelo\b",
        r"\b(?:me sinto|sinto-me) mal\b",
    ),
    "nl": (
        r"\bhoofdpijn\b",
        r"\bmisselijk\w*",
        r"\bdiarree\b",
        r"\bbuikpijn\b",
        r"\bslapeloos\w*",
        r"\bvermoeid\w*",
        r"\bjeuk\w*",
        r"\bhaaruitval\b",
        r"\bvoel (?:me|mij) (?:slecht|ziek|raar)\b",
    ),
    "pl": (
        r"\bbol\w* glowy\b",
        r"\bmdlosc\w*",
        r"\bnudnosc\w*",
        r"\bbiegunk\w*",
        r"\bbol\w* brzucha\b",
        r"\bbezsennos\w*",
        r"\bzmeczeni\w*",
        r"\bswedz\w*",
        r"\bwypadanie wlosow\b",
        r"\bzle sie czuje\b",
    ),
}

# Bare "side effects" only counts with an experience marker nearby; kept as a rule so that
# negated mentions ("keine Nebenwirkungen") are reported as suppressed.
_SIDE_EFFECT_MENTIONS: dict[str, tuple[str, ...]] = {
    "en": (r"\bside[ -]?effects?\b",),
    "de": (r"\bnebenwirkung\w*",),
    "fr": (r"\beffets? (?:secondaires?|indesirables?)\b",),
    "es": (r"\befectos? (?:secundarios?|adversos?)\b",),
    "it": (r"\beffett[oi] (?:collateral[ei]|indesiderat[oi])\b",),
    "pt": (r"\befeitos? (?:colatera(?:is|l)|secundarios?|adversos?)\b",),
    "nl": (r"\bbijwerking\w*",),
    "pl": (r"\bskutk\w* uboczn\w*", r"\bdzialani\w* niepozadan\w*"),
}

# --------------------------------------------------------------------------- context tables

# Experience: the writer (or someone they care for) actually went through it.
_EXPERIENCE_MARKERS = _compile(
    _any(
        # en
        r"\bi (?:\w+ )?(?:got|had|developed|noticed|felt|took|started|experienced|broke out|woke up|ended up"
        r"|became|threw up|passed out|fainted|swallowed|injected)\b",
        # "I have hives", "I've had", but not "I have an order", "I have been told", "I have read"
        r"\bi (?:have|'ve got|ve got|'ve|ve) (?!(?:been )?(?:told|waiting|trying|looking|asked|wondering"
        r"|reading)\b|(?:ordered|paid|placed|received|tried|read|heard|seen|looked|checked|asked|called"
        r"|emailed|to|no|not|never)\b|(?:a |an |the |my |one |some |two |three |a few )?(?:\w+ )?(?:orders?"
        r"|account|prescriptions?|parcels?|packages?|delivery|refund|return|subscription|appointment|voucher"
        r"|coupon|code|questions?|query|queries|problem|issue)\b)\w+",
        r"\bi(?:'m| am|m) (?:\w+ )?(?:having|getting|feeling|experiencing|suffering|covered)\b",
        r"\b(?:since|ever since) (?:i|he|she|we|they|my \w+) (?:\w+ )?(?:started|began|took|switched|changed"
        r"|have been|'ve been|been|got)\b",
        r"\bsince (?:starting|taking|switching|using|then)\b",
        r"\bafter (?:taking|using|starting|switching|i took|he took|she took|the (?:first|second|last"
        r"|new) (?:dose|batch|pack|tablet|pill|injection))\b",
        r"\bmy (?:son|daughter|child|kid|baby|toddler|husband|wife|partner|mother|mom|mum|father|dad|brother"
        r"|sister|grandmother|grandfather|grandma|grandpa|patient|friend|boyfriend|girlfriend|dog|cat)\b",
        r"\b(?:he|she|patient) (?:\w+ )?(?:has|had|got|took|developed|started|was|is having|became)\b",
        r"\b(?:made|gave|caused) (?:me|him|her|us|them)\b",
        r"\bi (?:still |now |also )?(?:feel|felt) (?:so |really |very |a bit |quite )?(?:sick|ill|unwell"
        r"|awful|terrible|horrible|dizzy|weird|strange|faint|bad|worse|off)\b",
        r"\bi (?:keep|can'?t stop|cannot stop)\b",
        r"\bam i\b(?! (?:allowed|able|supposed|eligible|entitled|right)\b)",
        r"\bwhy (?:do|am|have|did|is|does) (?:i|my \w+|he|she)\b",
        r"\b(?:this|my|his|her) (?:\w+ )?(?:rash|hives|swelling|bleeding|dizziness|vomiting|reaction"
        r"|symptoms?|spots|headache|nausea|itching)\b",
        r"\b(?:dieser|diese|mein|meine) (?:\w+ )?(?:ausschlag|schwindel|ubelkeit|reaktion|symptome?)\b",
        r"\b(?:ce|cette|mon|ma|mes) (?:\w+ )?(?:eruption|boutons|vertiges?|reaction|symptomes?|nausees?)\b",
        r"\b(?:este|esta|mi|mis) (?:\w+ )?(?:sarpullido|erupcion|mareos?|reaccion|sintomas?)\b",
        r"\bsince (?:yesterday|last (?:night|week))\b",
        r"\baccidentally\b|\bby mistake\b",
        # de
        r"\bich (?:habe|hatte|hab|bekam|bekomme|nahm|fuhle|fuhlte|leide|litt)\b",
        r"\bseit(?:dem)? (?:ich|er|sie|der einnahme|dem)\b",
        r"\bnach (?:der einnahme|einnahme|dem einnehmen)\b",
        r"\bmeine?[mr]? (?:sohn|tochter|kind|mann|frau|mutter|vater|baby|partner\w*|oma|opa)\b",
        r"\b(?:bei mir|mir ist|mir war|mir wurde)\b",
        # fr
        r"\bj'(?:ai|avais)\b|\bje (?:me sens|me suis)\b",
        r"\bdepuis que\b|\bapres avoir pris\b",
        r"\b(?:mon|ma) (?:fils|fille|enfant|mari|femme|mere|pere|bebe|conjoint\w*)\b",
        # es
        r"\b(?:tengo|tuve|tenia|he tenido|me dio|me ha dado|me salio|me salieron|me siento|me senti|estoy"
        r"|estaba)\b",
        r"\bdesde que\b|\bdespues de tomar\b",
        r"\bmi (?:hijo|hija|nino|nina|bebe|marido|esposa|esposo|mujer|madre|padre|pareja)\b",
        # it
        r"\bho (?:avuto|preso|notato|sentito|iniziato|un|una|dei|delle|forti)\b",
        r"\b(?:avevo|mi e venut[oa]|mi sono venut[ei]|mi sento|mi sono sentit[oa]|sono stat[oa])\b",
        r"\bda quando\b|\bdopo aver preso\b",
        r"\b(?:mio|mia) (?:figli[oa]|bambin[oa]|marito|moglie|madre|padre)\b",
        # pt
        r"\b(?:tenho|tive|estou com|estava com|fiquei|me sinto|senti)\b",
        r"\bdepois de tomar\b",
        r"\b(?:meu|minha) (?:filh[oa]|bebe|marido|esposa|mulher|mae|pai)\b",
        # nl
        r"\bik (?:heb|had|kreeg|krijg|ben|was|voel|voelde)\b",
        r"\bsinds ik\b|\bna het innemen\b",
        r"\bmijn (?:zoon|dochter|kind|baby|man|vrouw|moeder|vader|partner)\b",
        # pl
        r"\b(?:mam|mialem|mialam|dostalem|dostalam|czuje|czulem|czulam)\b",
        r"\bod kiedy\b|\bodkad\b|\bpo (?:zazyciu|przyjeciu|wzieciu)\b",
        r"\b(?:moj|moja|mojego|mojej) (?:syn|corka|dziecko|maz|zona|mama|tata|matka|ojciec)\b",
    )
)

# "I have a question" announces a question; it is not an experience.
_QUESTION_ANNOUNCEMENT = _compile(
    _any(
        r"\bi (?:have|'ve got|ve got|got) (?:a |an |one |some |two |a few )?(?:quick |short |general "
        r"|simple |small )?(?:question|query|questions|queries)\b",
        r"\bich (?:habe|hatte) (?:eine |ein paar )?(?:kurze )?frage\w*",
        r"\bj'ai (?:une |quelques )?(?:petite )?questions?\b",
        r"\btengo (?:una )?(?:pequena )?preguntas?\b",
        r"\bho (?:una )?(?:domanda|domande)\b",
        r"\btenho (?:uma )?(?:pergunta|duvida)s?\b",
        r"\bik heb (?:een )?(?:korte )?vra(?:ag|gen)\b",
        r"\bmam (?:pytanie|pytania)\b",
    )
)

# Conditional clauses: the symptom is imagined, not reported. Masked before looking for markers.
_CONDITIONAL_CLAUSE = _compile(
    r"(?:\b(?:if|in case|in the event|what if|whether|wenn|falls|sofern|s'il|au cas ou|en cas de|en caso de"
    r"|in caso di|indien|jezeli|jesli|gdyby|w razie)\b|(?:^|[,;:.!?\n])\s*(?:si\b(?! (?:e|sono|era|erano)\b)"
    r"|se\b(?! (?:me|le|te|nos|les|lo|la|ha|hizo|e)\b)|als\b(?! gevolg\b)))[^,;.!?\n]*"
)

# Wording of general information requests ("can X cause", "risk of", "leaflet").
_GENERAL_INFO_CUES = _compile(
    _any(
        r"\b(?:can|could|may|might|will|would|does|do) (?:\w+ ){0,3}(?:cause|causes|give|lead to|result in"
        r"|trigger)\b",
        r"\bknown to cause\b",
        r"\b(?:risk|risks|chance|likelihood) (?:of|for)\b",
        r"\bpossible side\b",
        r"\blist of\b",
        r"\bleaflet\b",
        r"\bpackage insert\b",
        r"\binformation (?:on|about)\b",
        r"\bwarn\w* (?:about|of|against)\b",
        r"\b(?:worried|afraid|concerned|scared) (?:about|of|that)\b",
        r"\bto (?:prevent|avoid)\b",
        r"\bin general\b",
        r"\bkann (?:\w+ ){0,3}(?:verursachen|auslosen|fuhren zu)\b",
        r"\brisiko\b",
        r"\bbeipackzettel\b",
        r"\bpeut (?:\w+ ){0,3}(?:provoquer|causer|entrainer|donner)\b",
        r"\brisques?\b",
        r"\bpuede (?:\w+ ){0,3}(?:causar|provocar|producir|dar)\b",
        r"\briesgo\b",
        r"\bprospecto\b",
        r"\bpuo (?:\w+ ){0,3}(?:causare|provocare|dare)\b",
        r"\brischio\b",
        r"\bfoglietto\b",
        r"\bpode (?:\w+ ){0,3}(?:causar|provocar|dar)\b",
        r"\brisco\b",
        r"\bbula\b",
        r"\bkan (?:\w+ ){0,3}(?:veroorzaken|geven|leiden tot)\b",
        r"\brisico\b",
        r"\bbijsluiter\b",
        r"\bmoze (?:\w+ ){0,3}(?:powodowac|wywolac)\b",
        r"\bryzyko\b",
        r"\bulotk\w*",
    )
)

# Sentences that ask for general information even without a question mark.
_INFO_QUESTION_START = _compile(
    r"^[\s\"'(¿¡-]*(?:what (?:are|is|were)|which|is (?:it|there|this|that)|are (?:there|these|they)"
    r"|can (?:it|this|\w+) cause|does (?:it|this|\w+) cause|how (?:common|likely|often|do i|can i|should i)"
    r"|was sind|welche|gibt es|quels? sont|quelles? sont|est-ce que|cuales son|que efectos|quali sono"
    r"|quais sao|wat zijn|welke|jakie sa|czy)\b"
)

_NEGATION_CUE = _compile(
    _any(
        # absence words; may sit a few words before the term ("no side effects", "keine Nebenwirkungen")
        r"\b(?:no|without|never|none|nothing|zero|free of|absence of|denies|denied|neither|nor|kein\w*|ohne"
        r"|nie|niemals|aucune?|sans|jamais|pas de|pas d'|ni|sin|ningun\w*|nunca|nada de|nessun\w*|senza|sem"
        r"|nenhum\w*|geen|zonder|nooit|bez|zadn\w*|brak|nigdy)\b",
        # verb negations ("haven't had any", "n'ai pas eu", "non ho avuto")
        r"\b(?:did ?n'?t|do ?n'?t|does ?n'?t|have ?n'?t|has ?n'?t|had ?n'?t|not|nicht|pas|non(?!-)|nao|niet"
        r"|nie)\b",
    )
)
_NEGATION_SCOPE = _compile(rf"{_NEGATION_CUE.pattern}(?:\W+[\w']+){{0,5}}?\W*$")

# Boundaries that end the scope of a negation or a condition inside a sentence.
_CLAUSE_BREAK = _compile(
    r"[;:()]|,\s*(?=(?:i|my|he|she|we|they|but|now|then|and now|ich|je|j'|yo|io|eu|ik|ja|mein|mon|ma|mi|mio"
    r"|meu|mijn|moj)\b)|\b(?:but|however|although|though|yet|because|aber|jedoch|doch|weil|sondern|mais"
    r"|cependant|parce que|pero|porque|sin embargo|ma|pero|perche|mas|porem|maar|echter|omdat|ale|jednak"
    r"|lecz|bo|poniewaz)\b|\s-\s"
)

_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)|\n")

# Marks the rules whose signal depends on a link to medication, and tells what the link is.
_MEDICATION_LINK = _compile(
    _any(
        # "the new batch/box" in every language
        r"\bnew (?:batch|pack|box|prescription|medication|tablets|pills|brand)\b"
        r"|\bneue\w* (?:packung|charge|tabletten)\b"
        r"|\bnouve(?:au|lle)s? (?:boite|lot|traitement|medicament|comprimes)\b"
        r"|\bnuev[oa] (?:lote|caja|medicamento)\b|\bnuov[oa] (?:lotto|confezione|farmaco)\b"
        r"|\bnov[oa] (?:lote|caixa|remedio)\b|\bnieuwe (?:verpakking|batch|pillen|medicijnen)\b"
        r"|\bnow\w* (?:opakowani\w*|lek\w*|tabletk\w*)\b",
        r"\bsince (?:i|he|she|we|they|my \w+) (?:\w+ )?(?:started|began|took|switched|changed"
        r"|have been taking|'ve been taking|been taking|got)\b",
        r"\bsince (?:starting|taking|switching|using|then)\b|\bever since\b",
        r"\bafter (?:taking|using|starting|switching|i took|he took|she took|the (?:first|second|last"
        r"|new) (?:dose|batch|pack|tablet|pill|injection))\b",
        r"\bfrom (?:the|these|this|my|your|those) (?:new )?(?:tablets|pills|medication|medicine|meds|drugs?"
        r"|capsules|injections?|jabs?|vaccines?|batch|cream|inhaler|patch)\b",
        r"\bside[ -]?effects?\b|\bcaused\b|\bmade (?:me|him|her)\b|\bgave (?:me|him|her)\b|\breaction\b",
        r"\bstarted (?:taking|on|using)\b|\bnew (?:batch|pack|prescription|medication|tablets|pills)\b",
        r"\b(?:i|he|she|we) (?:just |recently )?(?:started|began|switched)\b",
        r"\bseit(?:dem)? ich\b|\bseit der einnahme\b|\bnach (?:der )?einnahme\b|\bnebenwirkung\w*"
        r"|\bvon den tabletten\b|\bvom medikament\b|\bdavon\b",
        r"\bdepuis que\b|\bapres avoir pris\b|\bapres la prise\b|\beffets? (?:secondaires?|indesirables?)\b"
        r"|\bce medicament\b",
        r"\bdesde que\b|\bdespues de tomar\b|\befectos? secundarios?\b|\bpor (?:el|los|las"
        r"|la) (?:medicamento|pastillas|comprimidos)\b",
        r"\bda quando\b|\bdopo (?:aver preso|l'assunzione)\b|\beffett[oi] collateral[ei]\b",
        r"\bdepois de tomar\b|\bapos tomar\b|\befeitos? colatera\w*",
        r"\bsinds ik\b|\bna (?:het innemen|inname)\b|\bbijwerking\w*|\b(?:door|van) de (?:pillen|tabletten"
        r"|medicijnen)\b",
        r"\bod kiedy\b|\bodkad\b|\bpo (?:zazyciu|przyjeciu|wzieciu|tych tabletkach|tym leku)\b"
        r"|\bskutk\w* uboczn\w*",
    )
)

# Anything that ties an event to taking a medicine (intake verbs and medicine nouns).
_MEDICINE_CONTEXT = _compile(
    _any(
        _MEDICATION_LINK.pattern,
        r"\b(?:took|taking|taken|dose|doses|overdose|tablets?|pills?|capsules?|medication|medicine|meds"
        r"|drugs?|injection|jab|vaccine|reaction|eingenommen|genommen|tabletten|medikament\w*|spritze|pris"
        r"|prenait|comprimes|medicament\w*|tomo|tomaba|tomado|pastillas|medicamento\w*|preso|prendeva"
        r"|compresse|farmac\w*|tomou|tomava|remedio|ingenomen|genomen|pillen|medicijn\w*|wzial\w*|brala|bral"
        r"|tabletk\w*|lek\w*|dawk\w*)\b",
    )
)

# Events that are only a safety signal when tied to a medicine ("my phone died" is not).
_SIGNAL_REQUIRES: dict[str, re.Pattern[str]] = {"death": _MEDICINE_CONTEXT}

# Hospital stays for planned care or delivery admin are not adverse outcomes by themselves.
_SIGNAL_BENIGN_CONTEXT: dict[str, re.Pattern[str]] = {
    "hospitalisation": _compile(
        r"\b(?:surgery|operation|planned|scheduled|check-?up|appointment|gave birth|giving birth|visit\w*"
        r"|pause|hold|resume|deliver\w*|address|discharged|operation|geplant|termin|lieferung\w*|adresse"
        r"|chirurgie|rendez-vous|livraison|cirugia|cita|entrega|direccion|intervento|consegna|indirizzo"
        r"|cirurgia|entrega|morada|endereco|operatie|afspraak|bezorging|adres|operacj\w*|wizyt\w*|dostaw\w*"
        r"|adres\w*)\b"
    ),
}

# "cream for my rash", "something against nausea": the symptom is why they buy, not a reaction.
_SYMPTOM_SIGNALS = frozenset({"adverse_reaction", "clinical_adverse_event"})
_INDICATION_BEFORE = _compile(
    r"(?:\b(?:for|against|treat(?:s|ing)?|relieve|relief of|remedy for|gegen|fur|pour|contre|para|contra|per"
    r"|contro|voor|tegen|przeciw|na)\s+(?:(?:my|his|her|the|a|an|your|this|mein\w*|seine?|ihre?|den|die|das"
    r"|mon|ma|mes|son|sa|ses|les|le|la|mi|mis|su|sus|el|los|las|il|lo|i|mio|mia|o|a|os|as|meu|minha|mijn"
    r"|zijn|haar|de|het|moj\w*)\s+)?(?:\w+\s+)?|\banti-)$"
)

# "My baby has a rash, what cream do you recommend?": a symptom brought to the pharmacy for
# advice is not a reaction to a medicine unless the message links the two.
_ADVICE_REQUEST = _compile(
    _any(
        r"\b(?:recommend|suggest|advi[cs]e)\b",
        r"\bwhat (?:can|should|could) (?:i|we) (?:take|use|give|buy|put)\b",
        r"\bwhat (?:cream|ointment|medicine|tablets?|remedy|product|syrup|drops) (?:is|are|should|can|do"
        r"|would|for)\b",
        r"\b(?:something|anything) (?:for|to help)\b|\bwhat helps\b|\bbest (?:cream|medicine|treatment"
        r"|remedy)\b",
        r"\b(?:empfehlen|empfehlung|was hilft|etwas gegen|was kann ich (?:nehmen|geben))\b",
        r"\b(?:recommand\w*|conseill\w*|quelque chose (?:contre|pour)|que (?:puis-je|peut-on) (?:prendre"
        r"|donner))\b",
        r"\b(?:recomienda\w*|recomendar|algo para|que puedo (?:tomar|usar|dar))\b",
        r"\b(?:consiglia\w*|qualcosa per|cosa posso (?:prendere|usare|dare))\b",
        r"\b(?:recomenda\w*|o que posso (?:tomar|usar|dar))\b",
        r"\b(?:aanraden|aanbevelen|iets tegen|wat kan ik (?:nemen|gebruiken|geven))\b",
        r"\b(?:polecic|polecacie|cos na|co moge (?:wziac|dac|zastosowac))\b",
    )
)

# Symptoms that always need a pharmacist's eye, even when the customer only asks for advice.
_SEVERE_SYMPTOM = _compile(
    r"\b(?:throat|tongue|breath\w*|anaphyla\w*|chest|faint\w*|s(?:ei|ie)zure\w*|unconscious|blood|bleed\w*"
    r"|hallucinat\w*|jaundice|hals|zunge|atem\w*|gorge|langue|respir\w*|garganta|lengua|gola|lingua|keel"
    r"|tong|adem\w*|gardl\w*|jezyk\w*|oddych\w*)\b"
)

# A few frequent words per language, only to break ties between identical patterns
# (e.g. "vomito" is Spanish, Italian and Portuguese) in favour of the message's language.
_STOPWORD_LISTS = {
    "en": "the and my i is it of to have with was not this after since",
    "de": "der die das und ich ist nicht mit mein meine habe nach ein eine seit mir",
    "fr": "le la les et je est pas avec mon ma j'ai une des du depuis apres",
    "es": "el los y yo es con mi tengo una del que desde despues tome tuve",
    "it": "il gli io non con mio mia ho di che sono dopo preso avuto",
    "pt": "os eu nao com meu minha tenho uma do que depois tive tomei estou",
    "nl": "het en ik niet met mijn heb een van na sinds",
    "pl": "w nie z mam moj moja jest na po sie ze od",
}
_STOPWORDS = {language: frozenset(words.split()) for language, words in _STOPWORD_LISTS.items()}


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class _Rule:
    """One pattern of one signal in one language, with how it may be cancelled."""

    signal: str
    language: str
    pattern: re.Pattern[str]
    # Immune rules (self-harm) are never cancelled by negation or hypothetical context.
    immune: bool = False
    # Optional context that must appear in the sentence or a neighbour for the rule to count.
    requires: re.Pattern[str] | None = None
    # Optional benign context (planned surgery, paused deliveries) that cancels the rule
    # unless the neighbourhood also ties the event to a medicine.
    benign: re.Pattern[str] | None = None


def _build_rules() -> tuple[_Rule, ...]:
    rules: list[_Rule] = []
    for language in _LANGUAGES:
        for signal, patterns in _SIGNALS[language].items():
            rules.extend(
                _Rule(
                    signal,
                    language,
                    _compile(pattern),
                    requires=_SIGNAL_REQUIRES.get(signal),
                    benign=_SIGNAL_BENIGN_CONTEXT.get(signal),
                )
                for pattern in patterns
            )
        rules.extend(
            _Rule("self_harm", language, _compile(pattern), immune=True)
            for pattern in _SELF_HARM_ALWAYS[language]
        )
        rules.extend(
            _Rule("adverse_reaction", language, _compile(pattern), requires=_MEDICATION_LINK)
            for pattern in _LINKED_SYMPTOMS[language]
        )
        rules.extend(
            _Rule("adverse_reaction", language, _compile(pattern), requires=_EXPERIENCE_MARKERS)
            for pattern in _SIDE_EFFECT_MENTIONS[language]
        )
    return tuple(rules)


_RULES = _build_rules()


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


def _split_sentences(folded: str) -> list[_Sentence]:
    sentences: list[_Sentence] = []
    cursor = 0
    for boundary in _SENTENCE_END.finditer(folded):
        sentences.append(_make_sentence(folded, cursor, boundary.end()))
        cursor = boundary.end()
    if cursor < len(folded):
        sentences.append(_make_sentence(folded, cursor, len(folded)))
    return sentences


def _make_sentence(folded: str, start: int, end: int) -> _Sentence:
    text = folded[start:end]
    is_question = "?" in text or bool(_INFO_QUESTION_START.search(text))
    return _Sentence(start, end, text, is_question)


def _sentence_index(sentences: list[_Sentence], position: int) -> int:
    for index, sentence in enumerate(sentences):
        if sentence.start <= position < sentence.end:
            return index
    return len(sentences) - 1


def _clause_prefix(sentence: _Sentence, position: int) -> str:
    """Text of the current clause before `position` (negation and conditions do not cross clauses)."""
    prefix = sentence.text[: position - sentence.start]
    breaks = list(_CLAUSE_BREAK.finditer(prefix))
    return prefix[breaks[-1].end() :] if breaks else prefix


def _without_hypotheticals(text: str) -> str:
    text = _QUESTION_ANNOUNCEMENT.sub(" ", text)
    return _CONDITIONAL_CLAUSE.sub(" ", text)


def _neighbourhood(sentences: list[_Sentence], index: int) -> str:
    """The sentence and its neighbours: "I started X on Monday. Is a rash normal?" is one report."""
    return " ".join(sentence.text for sentence in sentences[max(0, index - 1) : index + 2])


def _is_hypothetical(sentence: _Sentence, candidate: _Candidate) -> bool:
    if sentence.is_question:
        return True
    before_term = sentence.text[: candidate.start - sentence.start]
    if _GENERAL_INFO_CUES.search(before_term):
        return True
    return any(
        clause.start() <= candidate.start - sentence.start < clause.end()
        for clause in _CONDITIONAL_CLAUSE.finditer(sentence.text)
    )


def _guess_language(folded: str) -> str:
    words = re.findall(r"[\w']+", folded)
    scores = {
        language: sum(word in stopwords for word in words) for language, stopwords in _STOPWORDS.items()
    }
    best = max(_LANGUAGES, key=lambda language: scores[language])
    return best if scores[best] > 0 else "en"


def _drop_overlaps(candidates: list[_Candidate], preferred_language: str) -> list[_Candidate]:
    """Keep one candidate per overlapping span of the same signal: longest, then the message language."""
    ranked = sorted(candidates, key=lambda c: (-c.length, c.rule.language != preferred_language, c.start))
    kept: list[_Candidate] = []
    for candidate in ranked:
        if not any(_overlaps(candidate, other) for other in kept):
            kept.append(candidate)
    return sorted(kept, key=lambda c: (c.start, c.rule.signal))


def _overlaps(first: _Candidate, second: _Candidate) -> bool:
    return first.rule.signal == second.rule.signal and first.start < second.end and second.start < first.end


def _evidence(text: str, origin: list[int], start: int, end: int) -> str:
    if not origin:
        return ""
    source = text[origin[start] : origin[max(start, end - 1)] + 1].strip()
    return source[:_MAX_EVIDENCE_CHARS]


def _finding(text: str, origin: list[int], candidate: _Candidate) -> GuardFinding:
    return GuardFinding(
        signal=candidate.rule.signal,
        language=candidate.rule.language,
        evidence=_evidence(text, origin, candidate.start, candidate.end),
    )


def _judge(candidate: _Candidate, sentences: list[_Sentence]) -> tuple[str, int]:
    """Verdict ("raise", "suppress", "drop") and where the evidence starts."""
    index = _sentence_index(sentences, candidate.start)
    sentence = sentences[index]
    if candidate.rule.immune:
        return "raise", candidate.start
    clause = _clause_prefix(sentence, candidate.start)
    negation = _NEGATION_SCOPE.search(clause)
    if negation:
        return "suppress", candidate.start - len(clause) + negation.start()
    if candidate.rule.signal in _SYMPTOM_SIGNALS and _INDICATION_BEFORE.search(clause):
        return "suppress", candidate.start
    context = _without_hypotheticals(_neighbourhood(sentences, index))
    if (
        candidate.rule.signal == "adverse_reaction"
        and _ADVICE_REQUEST.search(context)
        and not _MEDICATION_LINK.search(context)
        and not _SEVERE_SYMPTOM.search(context)
    ):
        return "suppress", candidate.start
    if _is_hypothetical(sentence, candidate) and not _EXPERIENCE_MARKERS.search(context):
        return "suppress", candidate.start
    if candidate.rule.requires is not None and not candidate.rule.requires.search(context):
        return "drop", candidate.start
    benign = candidate.rule.benign
    if benign is not None and benign.search(context) and not _MEDICATION_LINK.search(context):
        return "suppress", candidate.start
    return "raise", candidate.start


def check(text: str) -> GuardResult:
    """Report signals of experienced harm or risk; `raise_to_safety` if any survives suppression."""
    folded, origin = _fold_with_offsets(text)
    sentences = _split_sentences(folded)
    preferred_language = _guess_language(folded)
    raised: list[_Candidate] = []
    cancelled: list[_Candidate] = []
    for rule in _RULES:
        for match in rule.pattern.finditer(folded):
            if match.end() == match.start():
                continue
            candidate = _Candidate(rule, match.start(), match.end())
            verdict, evidence_start = _judge(candidate, sentences)
            if verdict == "raise":
                raised.append(candidate)
            elif verdict == "suppress":
                cancelled.append(_Candidate(rule, evidence_start, match.end()))
    kept = _drop_overlaps(raised, preferred_language)
    still_cancelled = [c for c in cancelled if not any(_overlaps(c, other) for other in kept)]
    findings = [_finding(text, origin, candidate) for candidate in kept]
    suppressed = [
        _finding(text, origin, candidate) for candidate in _drop_overlaps(still_cancelled, preferred_language)
    ]
    return GuardResult(raise_to_safety=bool(findings), findings=findings, suppressed=suppressed)
