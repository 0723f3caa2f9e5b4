"""Which sentences may be quoted as an answer: photo captions and other verbless labels may not.

A caption such as "President X and President Y at the White House during the state visit" sits in
the text where the photo was; it names who is in the picture and is often the closest match to a
question about them, yet it says nothing. It stays in its passage as context, but is never the answer.
"""

from __future__ import annotations

import re

_ENDS_SENTENCE = re.compile(r"[.!?…]['\"”’)\]]*\s*$|[:;]\s*$")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
# Finite verbs that are never nouns: auxiliaries and modals, and the commonest irregular pasts of news.
_FINITE = frozenset(
    """am is are was were be been being has have had having will would shall should can could may might
    must do does did isn't aren't wasn't weren't hasn't haven't hadn't won't wouldn't can't couldn't
    doesn't didn't don't said says told tells met made took gave went came held spoke saw won led left
    set put got began became brought thought found sent spent stood kept paid sold built fell ran wrote
    rose knew grew drew meant heard lost felt struck sought fought taught caught bought""".split()
)
# Credits and labels that mark a line as belonging to a picture, whatever its punctuation.
_PICTURE_CREDIT = re.compile(r"\((?:photo|image|picture|file photo|credit)\b[^)]*\)\s*$|\b(?:photo|image) credit\s*:",
                             re.IGNORECASE)
MAX_CAPTION_WORDS = 30


def has_finite_verb(text: str) -> bool:
    """Whether `text` holds a word that is surely a finite verb (an auxiliary, a past tense in -ed, ...)."""
    for word in _WORD.findall(text):
        if not word[0].islower() or "-" in word:  # names and compounds ("Kenya-led") are not verbs here
            continue
        w = word.lower().replace("’", "'")
        if w in _FINITE or (len(w) > 4 and w.endswith("ed")):
            return True
    return False


def is_caption(sentence: str) -> bool:
    """A photo caption or label: a short line that ends without a full stop and has no finite verb, or one
    that carries a picture credit."""
    text = sentence.strip()
    if _PICTURE_CREDIT.search(text):
        return True
    if not text or _ENDS_SENTENCE.search(text) or len(text.split()) > MAX_CAPTION_WORDS:
        return False
    return not has_finite_verb(text)


def is_quotable(text: str) -> bool:
    """Whether a sentence may be quoted as an answer: not a caption, and not itself a question (a sentence
    that asks something answers nothing)."""
    return not is_caption(text) and not text.rstrip(" \"'”’)]").endswith("?")
