"""A light answer-type tagger: what kind of thing a question asks for, and whether a sentence has one."""

from __future__ import annotations

import re

_NUMBER = re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|hundred|thousand|million|billion|dozen)\b", re.I)
_MONEY = re.compile(r"[$€£¥]|\b(ksh|usd|eur|dollars?|shillings?|pounds?|euros?|million|billion)\b", re.I)
_DATE = re.compile(
    r"\b(1[0-9]{3}|20[0-9]{2})\b|\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d|"
    r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|today|century|decade)\b",
    re.I,
)
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+")

_RULES: list[tuple[re.Pattern[str], re.Pattern[str]]] = [
    (re.compile(r"^\s*how\s+(much|many)\b|\bwhat\s+(amount|number|percentage|share)\b", re.I), _NUMBER),
    (re.compile(r"\bhow\s+much\b.*\b(cost|pay|paid|pledge|worth|spend|spent|fund|price)", re.I), _MONEY),
    (re.compile(r"^\s*when\b|\bwhat\s+(year|date|day|month|time|century|decade)\b|\bin\s+which\s+year\b", re.I), _DATE),
    (re.compile(r"^\s*(who|whom|whose)\b|\bwhich\s+(person|people|company|organi[sz]ation|country|leader)\b", re.I), _NAME),
    (re.compile(r"^\s*where\b", re.I), _NAME),
]


def type_bonus(question: str, sentence: str, weight: float = 0.05) -> float:
    """A small bonus when the sentence holds the kind of answer the question asks for."""
    bonus = 0.0
    for asks, has in _RULES:
        if asks.search(question) and has.search(sentence):
            bonus += weight
    return bonus
