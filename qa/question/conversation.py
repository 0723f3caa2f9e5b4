"""Follow-up questions: whether a turn leans on the conversation, and the standalone question it stands for.

A question that names its own subject, or asks something complete on a new topic, stands alone and is
answered exactly as if asked alone, whatever came before. Only an explicit reference to an earlier turn
changes it:
- a pronoun or a definite reference ("he", "they", "the call", "that mission") is resolved to what the
  earlier turn was about: the answer's subject first, then the question's names;
- an ellipsis ("And with Rubio?", "What about Somalia?", "And the year before?", "Why?") is the previous
  question with the new part put in.
Turns the articles did not answer give no context.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from qa.config import HISTORY_TURNS
from qa.errors import InputError
from qa.question.understanding import asking_part, names_in
from qa.text.answer_spans import NAMED, answer_kind, name_spans
from qa.text.lexical import terms


@dataclass(frozen=True)
class Turn:
    """An earlier turn of the conversation, as a front end keeps it: the question, the answer (None when the
    articles did not answer), how the question was understood, and what it was about (the answering name
    first; derived from the texts when not given)."""

    question: str
    answer: str | None
    asked_as: str | None = None
    about: tuple[str, ...] | None = None  # None when not known (a turn given as a question and answer pair)

    @property
    def searched(self) -> str:
        return self.asked_as or self.question

    def subjects(self) -> list[str]:
        """What the turn was about, in the order a reference back is resolved: its own `about` (when not known:
        the first name the answer to a who/which/where question gives that the question did not), then the
        question's names; one entry per person or thing (named by its last word)."""
        found = list(self.about or ())
        asked = names_in(self.searched)
        # only the answer to a who/which/where question is about the name it gives ("Who did Ruto call?" is
        # about the person called; "What did Ruto discuss?" is not about whoever its answer mentions)
        if self.about is None and self.answer and answer_kind(asking_part(self.searched)[1]) in NAMED:
            text = _without_markers(self.answer)
            known = {_last_term(n) for n in asked}
            found += [_short(text[s:e]) for s, e in name_spans(text) if _last_term(text[s:e]) not in known][:1]
        out: dict[str | None, str] = {}
        for name in [*found, *asked]:
            out.setdefault(_last_term(name), name)
        return [n for key, n in out.items() if key is not None]


def _last_term(name: str) -> str | None:
    found = terms(name)
    return found[-1] if found else None


def _short(name: str) -> str:
    """A long name run cut to its last two words ("United States Secretary of State Marco Rubio" -> "Marco
    Rubio"): what a follow-up's pronoun stands for reads naturally in the question."""
    words = name.split()
    return " ".join(words[-2:]) if len(words) > 3 else name


def check_history(history: object) -> list[Turn]:
    """The last HISTORY_TURNS turns of a conversation, each a `Turn` (as `Answer.turn()` makes it) or a
    (question, answer or None for an abstention) pair; InputError for anything else. Earlier turns are left
    out: a follow-up leans on the last few."""
    if history is None:
        return []
    turns = list(history) if isinstance(history, (list, tuple)) else None

    def pair(t: object) -> bool:
        return (isinstance(t, (list, tuple)) and len(t) == 2 and isinstance(t[0], str)
                and (t[1] is None or isinstance(t[1], str)))

    if turns is None or not all(isinstance(t, Turn) or pair(t) for t in turns):
        raise InputError("history must be a list of turns, or of (question, answer) pairs of text; an answer may "
                         "be None", field="history")
    return [t if isinstance(t, Turn) else Turn(t[0], t[1]) for t in turns[-HISTORY_TURNS:]]


def as_turn(item: Turn | Sequence[str | None]) -> Turn:
    """A turn from a `Turn` or a `(question, answer)` pair, the form front ends have long sent."""
    if isinstance(item, Turn):
        return item
    question, answer = item[0], item[1] if len(item) > 1 else None
    return Turn(str(question or ""), answer if isinstance(answer, str) and answer else None)


_MARKER = re.compile(r"\s*\[\d+\]")


def _without_markers(answer: str) -> str:
    return _MARKER.sub("", answer)


# ---- what in a question refers back ----------------------------------------------------------------------

_PERSONAL = {"he": "", "him": "", "she": "", "her": "'s", "his": "'s", "hers": "'s"}
_PLURAL = {"they": "", "them": "", "their": "'s", "theirs": "'s"}
# "it", and "this"/"that" standing for a thing ("When was that?", "Why did that happen?"); not "Is it true
# that…", nor "that" opening a clause
_THING = re.compile(r"\bits?\b(?!\s+(?:is|was)\s+(?:true|so|possible|likely)\b)|\b(?:this|that|these|those)\b"
                    r"(?=\s*[?.!]*$|\s+(?:happen\w*|take|took|start\w*|begin|began|end\w*|was|is|were|are|mean\w*|"
                    r"cost\w*|say|said|last\w*)\b)", re.I)
_TIME_WORDS = (r"(?:days?|weeks?|weekends?|months?|years?|mornings?|afternoons?|evenings?|nights?|times?|seasons?|"
               r"summer|winter|spring|autumn|fall)")
# "that mission", "this agreement", "the call": a thing the conversation spoke of (not "this week")
_DEFINITE = re.compile(rf"\b(?:that|this|those|these)\s+(?!{_TIME_WORDS}\b)[a-z]+\b|\bthe\s+(?:call|calls|talks?|"
                       r"conversation|meeting|mission|agreement|deal|visit|statement|pledge|election|partnership|trip|"
                       r"operation|plan|discussion|announcement|decision|same)\b", re.I)
_AUXILIARY = frozenset("did does do is was are were has have had will would can could should may might".split())
_ELLIPSIS = re.compile(r"^\W*(?:(?:and|but|also|so)\b|(?:what|how)\s+about\b)", re.I)
_BARE_WH = re.compile(r"^\W*(why|when|where|how|who|what)(?:\s+(?:else|exactly|so|then))?\W*$", re.I)
_LEAD_WH = re.compile(r"^\W*(?:who|whom|whose|what|which|when|where|why|how(?:\s+(?:many|much|long|often))?)\b\s*", re.I)
_YEAR_SHIFT = re.compile(r"\b(?:the\s+)?(?:year|one)\s+(before|after)\b|\b(?:the\s+)?(previous|next|following)\s+year\b|"
                         r"\ba\s+year\s+(earlier|later)\b", re.I)
_PREP = r"(?:with|in|on|about|for|from|to|by|of|at|during|after|before|against|between)"


@dataclass(frozen=True)
class Resolution:
    """How a turn was understood: `searched` is the question to answer (the question itself when it stands
    alone), `how` is "alone", "reference" or "ellipsis"."""

    searched: str
    how: str

    @property
    def rewritten(self) -> bool:
        return self.how != "alone"


def resolve(question: str, history: Sequence[Turn | Sequence[str | None]], turns: int | None = None) -> Resolution:
    """The standalone form of `question` given the earlier turns (the last `turns` of them are read)."""
    question = question.strip()
    recent = [as_turn(t) for t in (history[-turns:] if turns else history)]
    context = [t for t in recent if t.answer is not None]  # an unanswered turn gives no context
    if not context:
        return Resolution(question, "alone")
    last = context[-1]
    if _is_ellipsis(question):
        return Resolution(_fill_ellipsis(question, last), "ellipsis")
    resolved = _resolve_references(question, last)
    if resolved != question:
        return Resolution(resolved, "reference")
    return Resolution(question, "alone")


def _is_ellipsis(question: str) -> bool:
    """A fragment that only makes sense as a variation of the previous question."""
    if _BARE_WH.match(question):
        return True
    if not _ELLIPSIS.match(question):
        return False
    rest = _ELLIPSIS.sub("", question, count=1).strip(" ?.!")
    # "And what did Macron say?" is a whole question after "and"; "And with Rubio?" is not
    return len(rest.split()) <= 5 and not _LEAD_WH.match(rest)


def _fill_ellipsis(question: str, last: Turn) -> str:
    """The previous question with the fragment's new part put in."""
    base = last.searched.strip()
    bare = _BARE_WH.match(question)
    if bare:
        wh = bare.group(1).capitalize()
        body = _LEAD_WH.sub("", base, count=1) or base
        first = body.split()[0]
        if first.lower() in _AUXILIARY:
            body = first.lower() + body[len(first):]
        return f"{wh} {body}"
    fragment = _ELLIPSIS.sub("", question, count=1).strip(" ?.!")
    shift = _YEAR_SHIFT.search(fragment)
    if shift:
        step = -1 if (shift.group(1) or shift.group(2) or shift.group(3) or "").lower() in {"before", "previous", "earlier"} else 1
        shifted = re.sub(r"\b(19|20)\d{2}\b", lambda m: str(int(m.group()) + step), base)
        if shifted != base:
            return shifted
    prep = re.match(rf"^({_PREP})\s+(.+)$", fragment, re.I)
    if prep:
        # "And with Rubio?" after "What did Ruto discuss with Trump?": the phrase after the same preposition
        m = list(re.finditer(rf"\b{prep.group(1)}\s+(.+?)(?=\s+{_PREP}\b|[?.!]*$)", base, re.I))
        if m:
            span = m[-1].span(1)
            return base[:span[0]] + prep.group(2) + base[span[1]:]
    new_names = names_in(" " + fragment)
    old_names = names_in(base)
    if new_names and old_names:
        # "What about Somalia?": the last name of the previous question gives way to the new one
        i = base.rfind(old_names[-1])
        if re.search(r"\bthe\s+$", base[:i], re.I):
            fragment = re.sub(r"^the\s+", "", fragment, flags=re.I)
        # "And the Trump call?" after "What did the Rubio call highlight?": only the name changes
        if set(terms(fragment)) - set(terms(new_names[-1])) <= set(terms(base)):
            fragment = new_names[-1]
        return base[:i] + fragment + base[i + len(old_names[-1]):]
    return f"{base.rstrip(' ?')} ({fragment})?"


def _resolve_references(question: str, last: Turn) -> str:
    """Pronouns and definite references to the earlier turn replaced by (or followed by) what it was about."""
    subjects = last.subjects()
    if not subjects:
        return question
    out = question
    own_names = names_in(question)
    # a pronoun never stands for someone the question names itself ("Did he and Ruto talk…?")
    own = {_last_term(n) for n in own_names}
    others = [s for s in subjects if _last_term(s) not in own] or subjects
    person = others[0]
    # "did he bring it up with him?": the subject and the object are two people, the answer's first
    has_subject = re.search(r"\b(?:he|she)\b", question, re.I)
    objective = others[1] if has_subject and len(others) > 1 else person
    group = " and ".join(others[:2])

    def swap(m: re.Match[str]) -> str:
        low = m.group().lower()
        if low in _PLURAL:
            return group + _PLURAL[low]
        return (objective if low == "him" else person) + _PERSONAL[low]

    out = re.sub(r"\b(?:he|him|his|she|hers|they|them|their|theirs)\b", swap, out, flags=re.I)
    out = re.sub(r"\bher\b(?=\s+[a-z])", lambda m: person + "'s", out)
    out = re.sub(r"\bher\b", objective if has_subject else person, out)
    if out != question:
        return out
    definite = _DEFINITE.search(question)
    if definite or _THING.search(question):
        missing = [s for s in subjects if s not in own_names and not set(terms(s)) <= set(terms(question))]
        if missing:
            return f"{question.rstrip(' ?')} ({', '.join(missing[:3])})?"
    return question
