"""What kind of answer a question asks for, and whether a sentence holds one: a light rule-based tagger.

Used as a gate, not a score: a "how many" question answered by a sentence with no number, or a
"when" question by a sentence with no time in it, is not answered by that sentence.
"""

from __future__ import annotations

import re

_NUMBER = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred|"
    r"thousand|million|billion|trillion|dozen|dozens|hundreds|thousands|millions|several|few|half|double|twice)\b",
    re.I,
)
_TIME = re.compile(
    r"\d|\b(january|february|march|april|may|june|july|august|september|october|november|december|"
    r"jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec|monday|tuesday|wednesday|thursday|friday|saturday|"
    r"sunday|yesterday|today|tomorrow|tonight|century|centuries|era|spring|summer|autumn|winter|ago)\b",
    re.I,
)

_ASKS: list[tuple[str, re.Pattern[str]]] = [
    ("number", re.compile(r"^\W*how\s+(many|much)\b|\bwhat\s+(number|amount|percentage)\s+of\b", re.I)),
    ("time", re.compile(r"^\W*when\b|\b(what|which)\s+(year|date|day|month|century|decade|time)\b|"
                        r"\bon\s+what\s+date\b|\bhow\s+long\s+ago\b", re.I)),
]
_HAS = {"number": _NUMBER, "time": _TIME}
# "What does STIP stand for?", "What is NATO short for?", "What is the full name of the MSS?"
_EXPANSION = re.compile(r"^\W*(?i:what)\s+(?i:does|do|did|is|was)\s+(?i:the\s+)?([A-Z][A-Z0-9&.]{1,9})\s+"
                        r"(?i:stand|short)\s+(?i:for)\b|\b(?i:full\s+(?:name|form)\s+of\s+(?:the\s+)?)([A-Z][A-Z0-9&.]{1,9})\b")
_MINOR = frozenset("and of for the on in to &".split())


def expected_type(question: str, acronyms: bool = True) -> str | None:
    """'number' or 'time' when the question plainly asks for one, 'expansion:ABC' when it asks what the
    acronym ABC stands for (unless `acronyms` is false), else None."""
    m = _EXPANSION.search(question) if acronyms else None
    if m:
        return "expansion:" + (m.group(1) or m.group(2)).replace(".", "")
    for kind, pattern in _ASKS:
        if pattern.search(question):
            return kind
    return None


def spells(words: list[str], acronym: str) -> bool:
    """Whether the initials of `words` (minor words such as "and" or "of" may be skipped) spell `acronym`."""
    letters = acronym.upper()
    main = [w for w in words if w.lower() not in _MINOR]
    return "".join(w[0].upper() for w in main) == letters or "".join(w[0].upper() for w in words) == letters


def _expands(sentence: str, acronym: str) -> bool:
    """"Strategic Trade and Investment Partnership (STIP)", or "STIP (Strategic Trade …)": the long form beside it."""
    for m in re.finditer(rf"\b{re.escape(acronym)}\b", sentence.replace(".", "") if "." in acronym else sentence):
        before = re.findall(r"[\w&'’-]+", sentence[:m.start()])
        for n in range(len(acronym), min(len(before), 2 * len(acronym) + 2) + 1):
            if before[-n][:1].isupper() and spells(before[-n:], acronym):
                return True
        inside = re.match(r"\s*\(([^)]*)\)", sentence[m.end():])
        if inside and spells(re.findall(r"[\w&'’-]+", inside.group(1)), acronym):
            return True
    return False


def has_type(sentence: str, kind: str) -> bool:
    """Whether the sentence holds an answer of that kind."""
    if kind.startswith("expansion:"):
        return _expands(sentence, kind.split(":", 1)[1])
    return bool(_HAS[kind].search(sentence))


# "What topics did…", "Which conflicts are…", "In which areas have…": what/which, then a plural noun
# (possibly after one or two modifiers), then the verb. "What are the…"/"List…"/"Name the…" ask for several too.
_NOT_PLURAL = frozenset("is was has does this us its his news series species means gas bus plus thus".split())
_ONE_QUANTITY = frozenset("percentage percent number amount proportion share portion fraction majority ratio rate".split())
_SEVERAL_NOUN = re.compile(
    r"^\W*(?:(?:in|on|for|with|about|from|to|of|at|by|into|under|over|between|among)\s+)?(?:what|which)\s+"
    r"((?:[\w'’-]+\s+){0,2}?)([a-z][\w-]*s)['’]?\s+(?:did|do|does|are|were|have|has|had|will|would|can|could|"
    r"should|might|may|is|was)\b",
    re.I,
)
_SEVERAL_OTHER = re.compile(r"^\W*(?:(?:what|which|who)\s+(?:are|were)\s+(?:the|some|all)\b|list\b|name\s+(?:the|all)\b|"
                            r"(?:what|which)\s+(?:kinds|types|sorts|forms)\s+of\b)", re.I)


def asks_for_several(question: str) -> bool:
    """Whether the question asks for several things ("What topics did they discuss?"), not for one fact."""
    if _SEVERAL_OTHER.search(question):
        return True
    m = _SEVERAL_NOUN.search(question)
    if not m:
        return False
    modifiers, noun = m.group(1).lower().split(), m.group(2).lower()
    if modifiers and modifiers[0] in _ONE_QUANTITY:  # "what percentage of voters are…" asks for one figure
        return False
    return noun not in _NOT_PLURAL and not noun.endswith(("ss", "sis", "us"))
