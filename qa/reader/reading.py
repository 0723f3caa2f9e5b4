"""The reading stage, between retrieval and the answer policy: the reader scores the candidate sentences of
the top passages against the question. It only scores; what the scores decide is the policy's
(`qa.policy`).

Each sentence is read with the article's title before it (the title names what "the mission" is), and a
sentence that opens with a pronoun with the sentence before it too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.question.understanding import Question
from qa.reader.models import Reader
from qa.retrieval.retriever import Retrieval
from qa.text.answer_spans import answer_spans
from qa.text.answer_types import has_type
from qa.text.lexical import terms
from qa.text.quotable import is_quotable


@dataclass(frozen=True)
class Budget:
    """Which sentences the reader reads: those of the top passages, the best by retrieval score first."""

    passages: int = 10  # the top passages whose sentences are candidates
    typed_passages: int = 20  # as many when the question asks for a kind of answer: few sentences hold one
    sentences: int = 12  # at most this many are read: the best of them by retrieval sentence score
    always: int = 5  # the best sentence of each of the first passages is always read, so every citation has a score
    # A question that names people or things, or asks for a kind of answer, is also read in the sentences
    # further down that honour it (from articles that mention every name, holding the kind asked for),
    # among them the other passages of the best such articles (`reach`, see `Retriever.retrieve`).
    reach: int = 3
    constrained_sentences: int = 6
    named_context: bool = True  # a sentence that names no one of the question is read after one of its article that does

    @property
    def hits(self) -> int:
        """How many passages retrieval must return for the reader."""
        return max(self.passages, self.typed_passages)


@dataclass(frozen=True)
class ReadSentence:
    """One sentence the reader read: where it is (hit and sentence index) and the reader's logit."""

    hit: int
    sentence: int
    text: str
    logit: float
    retrieval: float  # the retrieval's sentence score (SS)


@dataclass(frozen=True)
class Reading:
    """What the reader made of the retrieved passages: every sentence it read, in reading order."""

    sentences: tuple[ReadSentence, ...] = ()


# A sentence that opens with one of these leans on the one before it ("It caused the most damage…").
_ANAPHOR = re.compile(r"^\W*(?:it|its|they|their|them|this|these|those|that|he|she|his|her|such|there)\b", re.I)


_PRONOUN = re.compile(r"\b(?:he|she|they|him|her|his|them|their)\b", re.I)


_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")


def _could_be_someone(name: str, texts: list[str]) -> bool:
    """Whether `name` could be what "he" or "they" stands for: a proper name, with a word that the retrieved
    passages never write in lower case. "Investment Partnership" is made of words the article also writes as common nouns
    ("a partnership", "investment"): a thing, whose sentences' pronouns are about someone else."""
    lower = {w for t in texts for w in _WORD.findall(t) if w[0].islower()}
    return any(w.lower() not in lower for w in _WORD.findall(name))


def _named_context(question: Question, retrieval: Retrieval, i: int, sentence: str) -> str | None:
    """For a sentence brought in from an article that names the question's people elsewhere (see
    `Retriever.retrieve`'s `reach`) and speaks of someone only by pronoun ("In a statement on Monday, he
    outlined…"), the retrieved sentence of that article that names them
    (the best by retrieval score): what the pronoun stands for. None when it needs none."""
    if not question.names or not _PRONOUN.search(sentence) or not 0 <= retrieval.reached <= i:
        return None
    source = retrieval.hits[i].passage.source
    texts = [t for h in retrieval.hits for t in h.passage.sentence_texts()]
    if not all(_could_be_someone(n, texts) for n in question.names):
        return None
    own = set(terms(sentence))
    wanted = [set(terms(n)) for n in question.names]
    if any(w and w <= own for w in wanted):  # it names one of them itself: its pronouns may be anyone's
        return None
    best: tuple[float, str] | None = None
    for h in retrieval.hits:
        if h.passage.source != source:
            continue
        for j, text in enumerate(h.passage.sentence_texts()):
            if text != sentence and all(w <= set(terms(text)) for w in wanted):
                if best is None or float(h.sentence_scores[j]) > best[0]:
                    best = (float(h.sentence_scores[j]), text)
    return best[1] if best else None


def reader_text(title: str | None, sentence: str, previous: str | None = None, context: str | None = None) -> str:
    """What the reader sees of a sentence: the article's title, then the sentence; a sentence that opens
    with a pronoun ("They", "It", "These"…) comes after the `previous` sentence of its passage, which says
    what the pronoun stands for, and any sentence after the `context` given for it."""
    if context:
        sentence = f"{context} {sentence}"
    elif previous and _ANAPHOR.match(sentence):
        sentence = f"{previous} {sentence}"
    if not title or not title.strip():
        return sentence
    title = title.strip()
    return f"{title} {sentence}" if title[-1] in ".!?:…" else f"{title}. {sentence}"


class SentenceReader:
    """Reads the top passages' sentences with a `Reader` (safe to share between threads)."""

    def __init__(self, reader: Reader, budget: Budget | None = None) -> None:
        self.reader = reader
        self.budget = budget or Budget()

    @property
    def name(self) -> str:
        return self.reader.name

    def _pool(self, question: Question, retrieval: Retrieval, kind: str | None) -> list[tuple[int, int, float]]:
        """(hit, sentence, SS) of the sentences to read: no captions, and only sentences of the answer type
        `kind` when one is asked for; the best by SS of each of the first `always` passages, then the best by
        SS of the top passages, up to the budget; then the best of those further down that honour the
        question's names and kind."""
        b, hits = self.budget, retrieval.hits
        top = b.passages if kind is None else b.typed_passages

        def sentences(lo: int, hi: int) -> list[tuple[int, int, float]]:
            found = [(i, j, float(hits[i].sentence_scores[j])) for i in range(lo, min(hi, len(hits)))
                     for j, text in enumerate(hits[i].passage.sentence_texts())
                     if is_quotable(text) and (kind is None or has_type(text, kind))]
            return sorted(found, key=lambda x: -x[2])

        pool = sentences(0, top)
        first: dict[int, tuple[int, int, float]] = {}
        for x in pool:
            if x[0] < b.always:
                first.setdefault(x[0], x)
        rest = [x for x in pool if x not in first.values()]
        chosen = list(first.values()) + rest[:max(0, b.sentences - len(first))]
        if question.names or question.answer_kind:
            further = [x for x in sentences(top, len(hits)) if x not in chosen
                       and retrieval.mentions_all(x[0], question.names)
                       and (question.answer_kind is None or answer_spans(
                           hits[x[0]].passage.sentence_texts()[x[1]], question.answer_kind, question.searched))]
            further += [x for x in rest[max(0, b.sentences - len(first)):] if retrieval.mentions_all(x[0], question.names)
                        and question.answer_kind and answer_spans(hits[x[0]].passage.sentence_texts()[x[1]],
                                                                  question.answer_kind, question.searched)]
            chosen += sorted(further, key=lambda x: -x[2])[:b.constrained_sentences]
        return chosen

    def read(self, question: Question, retrieval: Retrieval, kind: str | None = None) -> Reading:
        """Score the candidate sentences of the retrieved passages for the question. With `kind` (see
        `qa.text.answer_types`), only sentences holding an answer of that kind are read: no other can answer."""
        hits = retrieval.hits
        pool = self._pool(question, retrieval, kind)
        if not pool:
            return Reading()
        texts = []
        for i, j, _ in pool:
            sentences = hits[i].passage.sentence_texts()
            previous = sentences[j - 1] if j else None
            context = None if not self.budget.named_context or previous and _ANAPHOR.match(sentences[j]) else \
                _named_context(question, retrieval, i, sentences[j])
            texts.append(reader_text(hits[i].passage.title, sentences[j], previous, context))
        logits = self.reader.score(question.searched, texts)
        return Reading(tuple(ReadSentence(i, j, hits[i].passage.sentence_texts()[j], float(lg), ss)
                             for (i, j, ss), lg in zip(pool, logits, strict=True)))
