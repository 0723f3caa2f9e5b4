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


def expected_type(question: str) -> str | None:
    """'number' or 'time' when the question plainly asks for one, else None."""
    for kind, pattern in _ASKS:
        if pattern.search(question):
            return kind
    return None


def has_type(sentence: str, kind: str) -> bool:
    """Whether the sentence holds an answer of that kind."""
    return bool(_HAS[kind].search(sentence))
