"""What kind of thing a question asks for (a person, a place, an organisation, a name, a time, a number), and
where such a thing stands in a sentence: the span that answers, when it is not already in the question.

Rules over the words, no model: a capitalised run of words is a name, a month or a weekday is a time, a
figure is a number. A named-entity model was tried in their place (spaCy's en_core_web_sm) and did no
better as a gate on either question set (README, "How a question is read").
"""

from __future__ import annotations

import re

from qa.text.answer_types import has_type, spells
from qa.text.lexical import STOPWORDS, terms

# nouns that, after "which"/"what", say what kind of thing is asked for
PERSON_NOUNS = frozenset("""person people man woman men women spokesperson spokesman spokeswoman president leader
    minister secretary actor actress player singer rapper author writer artist director chef coach captain ceo founder
    official senator governor mayor judge candidate nominee athlete gymnast swimmer runner star host anchor journalist
    reporter scientist doctor king queen prince princess pope politician lawmaker representative member character
    musician comedian driver pitcher quarterback golfer boxer skater pilot astronaut chancellor premier ambassador
    commissioner chairman chairwoman chair economist designer celebrity envoy general commander officer""".split())
PLACE_NOUNS = frozenset("""country countries city cities state states nation island islands region town county continent
    place location venue province village capital neighborhood neighbourhood district territory area airport stadium
    park river lake mountain ocean sea border port""".split())
ORGANISATION_NOUNS = frozenset("""company companies team teams organization organisation organizations organisations
    party agency group network university newspaper brand firm bank airline club league channel outlet studio
    retailer chain union platform app""".split())
# words that name a role, not who holds it
_TITLES = PERSON_NOUNS | frozenset("""president-elect vice prime deputy chief former acting mr mrs ms dr sir
    lady lord""".split())
TIME_NOUNS = frozenset("year date day month decade century".split())
NAMED = ("person", "place", "organisation", "name")

_WH = re.compile(r"^\W*(who|whom|whose|when|where)\b", re.I)
_HOW_MUCH = re.compile(r"\bhow\s+(?:many|much|old|far|tall|long|big|large|high|deep|fast)\b|"
                       r"\bwhat\s+(?:number|amount|percentage|percent|share|proportion)\b", re.I)
_WHICH = re.compile(r"\b(?:what|which)\s+(?:(?:is|was|are|were)\s+)?(?:the\s+)?([\w'’ -]+)", re.I)
_NAME_OF = re.compile(r"\b(?:what|which)\s+(?:is|was|are|were)\s+(?:the\s+)?name(?:s)?\s+of\b|\bnamed what\b|"
                      r"\bwhat\s+(?:is|was|are|were)\s+\w+(?:\s+\w+)?\s+called\b", re.I)
# words that end the noun phrase after "which": a verb, a preposition, a determiner
_PHRASE_END = frozenset("""of did does do is was are were has have had will would can could should may might must
    in on at to for by from with that this these those who which whose when where after before during""".split())


def answer_kind(asking: str) -> str | None:
    """The kind of thing the asking part of a question wants: "person", "place", "organisation", "name",
    "time" or "number"; None when it asks for something else (an event, a reason, a list)."""
    m = _WH.match(asking)
    if m:
        word = m.group(1).lower()
        return {"who": "person", "whom": "person", "whose": "person", "when": "time", "where": "place"}[word]
    if _HOW_MUCH.search(asking):
        return "number"
    m = _WHICH.search(asking)
    if m:
        words = re.findall(r"[\w'’-]+", m.group(1).lower())
        if words and words[0] in TIME_NOUNS:  # "what year", "which day": the head right after the question word
            return "time"
        head = None
        for w in words[:5]:
            if w in _PHRASE_END:
                break
            w = re.sub(r"['’]s$", "", w)
            for n in (w, w[:-1] if w.endswith("s") else w):
                kind = ("person" if n in PERSON_NOUNS else "place" if n in PLACE_NOUNS
                        else "organisation" if n in ORGANISATION_NOUNS else None)
                if kind:
                    head = kind  # the last such noun of the phrase is its head ("State Department spokesperson")
                    break
        if head:
            return head
    if _NAME_OF.search(asking):
        return "name"
    return None


_NAME_WORD = r"(?:[A-Z][A-Za-z'’.-]*[a-z][A-Za-z'’-]*|[A-Z]{2,}[A-Za-z'’-]*|(?:[A-Z]\.){2,}|[A-Z]\.)(?![\w.]*\d)"
_NAME_RUN = re.compile(rf"\b{_NAME_WORD}(?:\s+(?:(?:of|de|du|van|von|al|bin|the|and|for|&)\s+)?{_NAME_WORD})*")
_NOT_NAMES = frozenset("""january february march april may june july august september october november december monday
    tuesday wednesday thursday friday saturday sunday""".split())
_OPENERS = frozenset("""according after although as because before but despite during following however if in it its
    meanwhile on since so that the their there these they this those though when where while with yet""".split())
_MONTH = (r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
          r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?")
_DAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
# months and weekdays are capitalised in news text; lower case they are words ("may", "march")
_TIME_SPAN = re.compile(
    rf"\b(?:{_DAY},?\s+)?{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?"
    rf"|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?:,?\s+\d{{4}})?"
    rf"|\b{_MONTH}\s+(?:of\s+)?\d{{4}}"
    r"|\b(?i:early|mid|late)[- ]\d{4}s?"
    r"|\b(?:the\s+)?\d{4}s\b|\b(?:19|20)\d{2}(?:[-–/](?:19|20)?\d{2})?\b|\b1\d{3}\b"
    rf"|\b{_DAY}\b|\b(?i:yesterday|today|tomorrow|tonight)\b"
    rf"|\b{_MONTH}(?!\s+\d)"
    r"|\b(?i:(?:last|this|next|earlier this|later this)\s+(?:week|month|year|weekend|spring|summer|autumn|fall|winter))\b"
    r"|\b\d+\s+(?i:years?|months?|weeks?|days?|decades?|centuries)\s+(?i:ago)\b"
    r"|\b\d{1,2}(?::\d{2})?\s*(?i:a\.m\.|p\.m\.|am|pm)\b"
    r"|\b(?:\d+(?:st|nd|rd|th)|(?i:[a-z]+(?:teenth|tieth)))\s+(?i:century)\b"
)
_NUMBER_WORDS = (r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
                 r"sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|"
                 r"thousand|million|billion|trillion|dozens?|hundreds|thousands|millions|billions|half|double|twice")
_NUMBER_SPAN = re.compile(
    rf"(?:[$€£¥]|\b(?:Ksh|KES|USD|US\$|Sh|Rs)\.?\s?)?\b\d[\d,]*(?:\.\d+)?(?:\s?(?:%|percent|per cent))?"
    rf"(?:\s+(?:{_NUMBER_WORDS}))*(?:\s+[a-z]+)?"
    rf"|\b(?:{_NUMBER_WORDS})(?:[\s-]+(?:{_NUMBER_WORDS}))*(?:\s+[a-z]+)?",
    re.I,
)


_ORDINAL = re.compile(r"^(?:st|nd|rd|th)\b", re.I)


def _new(text: str, question_terms: set[str], name: bool) -> bool:
    """Whether `text` says something the question does not: a name whose last word, the one that identifies
    it, the question does not have ("Secretary Rubio" is not new to a question about Rubio, "French President
    Emmanuel Macron" is to one about a French president), or a time or number with a word it does not have."""
    own = terms(text) or [text.lower()]
    return own[-1] not in question_terms if name else not set(own) <= question_terms


def name_spans(sentence: str) -> list[tuple[int, int]]:
    """The spans of the names in a sentence: runs of capitalised words, without a capital that only opens it."""
    spans = []
    for m in _NAME_RUN.finditer(sentence):
        start, text = m.start(), m.group()
        words = text.split()
        # a capital that only opens the sentence, or a stop word, is no name: drop it from the run
        while words and (words[0].lower() in STOPWORDS or words[0].lower() in _OPENERS
                         or words[0].lower().rstrip(".") in _NOT_NAMES):
            start += len(words[0]) + (len(text[len(words[0]):]) - len(text[len(words[0]):].lstrip()))
            text = text[len(words[0]):].lstrip()
            words = words[1:]
        while words and words[-1].lower() in {"of", "de", "the", "and", "for", "&"}:
            text = text[:len(text) - len(words[-1])].rstrip()
            words = words[:-1]
        # a title alone ("the 47th President") or a lone initial names no one
        if words and not all(w.lower().strip(".,;:") in _TITLES for w in words) and len(text.strip(".")) > 1:
            # a full stop ends the name unless it closes an initialism ("U.S.")
            end = text.rstrip(",;:")
            if not re.search(r"(?:^|[\s.])[A-Z]\.$", end):
                end = end.rstrip(".")
            spans.append((start, start + len(end)))
    return spans


def answer_spans(sentence: str, kind: str | None, question: str) -> list[tuple[int, int]]:
    """Spans of `sentence` that hold an answer of `kind` the question does not already give, in order.

    `kind` is one of `answer_kind`'s, or "expansion:ABC" (the long form of an acronym)."""
    if kind is None:
        return []
    asked = set(terms(question))
    if kind.startswith("expansion:"):
        return _expansion_spans(sentence, kind.split(":", 1)[1])
    if kind == "time":
        found = [m.span() for m in _TIME_SPAN.finditer(sentence)]
    elif kind == "number":
        # an ordinal ("the 47th President") or a date ("Nov 05", "in 2024") is no quantity
        times = [m.span() for m in _TIME_SPAN.finditer(sentence)]
        found = [m.span() for m in _NUMBER_SPAN.finditer(sentence)
                 if (any(c.isdigit() for c in m.group()) or has_type(m.group(), "number"))
                 and not _ORDINAL.match(sentence[m.end():m.end() + 3])
                 and not any(a <= m.start() < b or a < m.end() <= b for a, b in times)]
    elif kind in NAMED:
        found = name_spans(sentence)
    else:
        return []
    return [(s, e) for s, e in found if _new(sentence[s:e], asked, kind in NAMED)]


def _expansion_spans(sentence: str, acronym: str) -> list[tuple[int, int]]:
    """The long form of `acronym` in the sentence: the capitalised words right before it, or inside the
    brackets right after it."""
    out = []
    for m in re.finditer(rf"\b{re.escape(acronym)}\b", sentence):
        before = list(re.finditer(r"[\w&'’-]+", sentence[:m.start()]))
        for n in range(len(acronym), min(len(before), 2 * len(acronym) + 2) + 1):
            words = [w.group() for w in before[-n:]]
            if words[0][:1].isupper() and spells(words, acronym):
                out.append((before[-n].start(), before[-1].end()))
                break
        inside = re.match(r"\s*\(([^)]*)\)", sentence[m.end():])
        if inside and spells(re.findall(r"[\w&'’-]+", inside.group(1)), acronym):
            out.append((m.end() + inside.start(1), m.end() + inside.end(1)))
    return out
