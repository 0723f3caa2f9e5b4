"""A question as the bot reads it: the part that asks, the kind of answer it wants, and the names and time
that any answer must honour.

Everything here is read from the words alone (no model), so it costs nothing at question time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from qa.text.answer_spans import answer_kind
from qa.text.answer_types import asks_for_several, expected_type
from qa.text.dates import TimeHint
from qa.text.dates import parse as parse_time

_WH = r"(?:who|whom|whose|what|which|when|where|why|how)"
# a new sentence inside a question ("… this week. What is the name of the spacecraft?")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+(?=[\"“‘']?[A-Z])")
# a question word after a comma opens the asking clause ("According to the report, what is …")
_COMMA_WH = re.compile(rf",\s+({_WH}\b.*)$", re.I)

_EVENT = re.compile(r"^\W*what(?:['’]s|\s+is|\s+was|\s+has|\s+have)?\s+(?:happened|happening|been\s+happening|"
                    r"went\s+on|(?:the\s+)?(?:news|headlines?))\b", re.I)
_LATEST = re.compile(r"\b(?:latest|most\s+recent|newest)\s+(?:news|updates?|developments?|stor(?:y|ies)|articles?|"
                     r"reports?|headlines?|on|about)\b|^\W*what(?:['’]s|\s+is)\s+(?:the\s+)?(?:latest|new)\b", re.I)
_NAME = r"(?:[A-Z][\w'’-]*[a-z][\w'’-]*|[A-Z]{2,})"
_NAME_RUN = re.compile(rf"\b{_NAME}(?:\s+{_NAME})*\b")  # consecutive capitalised words: one name


@dataclass(frozen=True)
class Question:
    """One question, understood: what is searched and read, and what the answer must be.

    `text` is the question as asked; `searched` is what retrieval and the reader see: the same text, or
    the question made standalone from the conversation. Every other field is read from `searched`.
    """

    text: str
    searched: str
    asking: str  # the asking part: the last clause with a question word ("What is the name of the spacecraft?")
    preamble: str  # what comes before it ("A lunar lander embarked on … this week.")
    kind: str | None  # the kind of answer only some sentences hold: "number", "time", "expansion:ABC" or None
    answer_kind: str | None  # the kind of answer wanted: a person, place, organisation, name, time, number, expansion
    plain_kind: str | None  # the same without acronym expansions: the rule of the answers without a reader
    several: bool  # asks for several things ("What topics did they discuss?")
    names: tuple[str, ...]  # the names it mentions (capitalised runs after its first word)
    time: TimeHint = field(default_factory=TimeHint)
    # "event": what happened in the period it names; "latest": the newest news (about its names); answered by
    # the leads of the articles of that time, not by a sentence that matches its words
    intent: str | None = None

    @property
    def asked_as(self) -> str | None:
        """The standalone form, when the conversation changed the question."""
        return self.searched if self.searched != self.text else None


def asking_part(question: str) -> tuple[str, str]:
    """(preamble, asking part) of a question: the asking part is its last sentence that is a question, or
    the clause after the last comma that a question word opens; the preamble is what comes before."""
    q = question.strip()
    parts = _SENTENCE_BREAK.split(q)
    if len(parts) > 1:
        for i in range(len(parts) - 1, 0, -1):
            if parts[i].rstrip().endswith("?"):
                return " ".join(parts[:i]).strip(), " ".join(parts[i:]).strip()
    m = _COMMA_WH.search(q)
    if m and not re.match(rf"^\W*{_WH}\b", q[:m.start()], re.I):  # "How many…, who then…" is one clause
        return q[:m.start()].strip(), m.group(1).strip()
    return "", q


_NOT_NAMES = frozenset("""January February March April May June July August September October November December
    Monday Tuesday Wednesday Thursday Friday Saturday Sunday""".split())


def names_in(question: str) -> tuple[str, ...]:
    """The capitalised word runs of a question after its first word: the names it is about (a month or a
    weekday is a time, not a name)."""
    return tuple(m.group() for m in _NAME_RUN.finditer(question) if m.start() > 0 and m.group() not in _NOT_NAMES)


def understand(text: str, searched: str | None = None) -> Question:
    """Read `text` (and `searched`, its standalone form when the conversation rewrote it)."""
    text = text.strip()
    searched = (searched or text).strip()
    preamble, asking = asking_part(searched)
    kind = expected_type(searched)
    time = parse_time(searched)
    intent = ("event" if _EVENT.search(asking) and time.start is not None
              else "latest" if _LATEST.search(asking) else None)
    return Question(
        text=text,
        searched=searched,
        asking=asking,
        preamble=preamble,
        kind=kind,
        answer_kind=kind if kind and kind.startswith("expansion:") else answer_kind(asking),
        plain_kind=expected_type(searched, acronyms=False),
        several=asks_for_several(searched),
        names=names_in(searched),
        time=time,
        intent=intent,
    )
