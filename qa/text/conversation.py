"""Follow-up questions: carry the subject of earlier turns into a question that leans on them."""

from __future__ import annotations

import re

from qa.text.lexical import STOPWORDS

# Words that point back at something said before.
_ANAPHORA = re.compile(
    r"\b(he|she|they|them|their|theirs|his|her|hers|it|its|this|that|these|those|there|then|"
    r"the (call|talks?|conversation|meeting|mission|agreement|deal|visit|statement|article|same))\b",
    re.I,
)
_CAPITALISED = re.compile(r"\b[A-Z][\w’'.-]*(?:\s+(?:of\s+)?[A-Z][\w’'.-]*)*")
_DATE_PHRASE = re.compile(
    r"\b(?:in\s+)?(?:January|February|March|April|May|June|July|August|September|October|November|December)"
    r"(?:\s+\d{1,2})?(?:,?\s+\d{4})?\b|\b(?:19|20)\d{2}\b"
)


def _key_phrases(text: str) -> list[str]:
    """Names and dates in `text`: the things a follow-up may refer back to."""
    found = [re.sub(r"^in\s+", "", m.group().strip()) for m in _DATE_PHRASE.finditer(text)]
    for m in _CAPITALISED.finditer(text):
        phrase = m.group().strip(" .")
        first = phrase.split()[0].lower()
        sentence_start = text[:m.start()].rstrip()[-1:] in ("", ".", "!", "?", "\"", "“")
        # a capital that only opens a sentence is no name, unless more capitals follow it
        if first in STOPWORDS or first in {"what", "who", "when", "where", "why", "how", "which", "i"} or (
                sentence_start and len(phrase.split()) == 1):
            phrase = " ".join(phrase.split()[1:])
        if phrase and phrase.lower() not in STOPWORDS:
            found.append(phrase)
    return list(dict.fromkeys(found))


def needs_context(question: str) -> bool:
    """A question that refers back (pronouns, "the call") or names nothing of its own."""
    return bool(_ANAPHORA.search(question)) or not _key_phrases(question)


def rewrite(question: str, history: list[tuple[str, str | None]]) -> str | None:
    """The follow-up made standalone from earlier (question, answer) turns, or None when it stands alone.

    The names and dates of the last turn (its question first, then its answer) are added to the
    question, which is enough for retrieval to find the passages the conversation is about.
    """
    if not history or not needs_context(question):
        return None
    last_q, last_a = history[-1]
    context = _key_phrases(last_q) + _key_phrases(last_a or "")[:3]
    own = question.lower()
    extra: list[str] = []
    for phrase in context:
        low = phrase.lower()
        if low in own or any(low in other.lower() for other in context if other is not phrase and len(other) > len(phrase)):
            continue  # already said, or part of a longer phrase ("Smith" in "President Jane Smith")
        if low not in (e.lower() for e in extra):
            extra.append(phrase)
    if not extra:
        return None
    return f"{question.rstrip()} ({', '.join(extra[:5])})"
