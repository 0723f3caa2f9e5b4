"""The reading stage, between retrieval and the answer: the reader scores the best candidate sentences of
the top passages against the question, and the scores choose the quoted sentence(s), the order of the
passages and whether to answer at all.

Each sentence is read with the article's title before it (the title names what "the mission" is), a
sentence that opens with a pronoun with the sentence before it too, and its reader logit is added to the retrieval's sentence score: `logit + retrieval · SS`. The
weights and thresholds were chosen on the tuning half of the SQuAD bench with bench/tune_reader.py
(README, "How the weights were chosen").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from qa.reader.models import Reader
from qa.retrieval.retriever import Hit, Query
from qa.text.answer_types import asks_for_several, has_type
from qa.text.lexical import terms
from qa.text.quotable import is_caption


@dataclass(frozen=True)
class ReaderWeights:
    """How the reader's scores are read: which sentences it sees, how they are combined, when to answer."""

    passages: int = 10  # the top passages whose sentences are candidates
    typed_passages: int = 20  # as many when the question asks for a kind of answer: few sentences hold one
    sentences: int = 12  # at most this many are read: the best of them by retrieval sentence score
    retrieval: float = 1.0  # weight of the retrieval sentence score (SS) beside the reader's logit
    min_logit: float = -3.75  # below this reader logit for the chosen sentence, the articles do not answer
    # Further quoted sentences (a question that asks for several things, or a best sentence that covers
    # little of it): each must itself be read as an answer and score close to the best one. Set by hand
    # from the model's scale (a logit above 0 reads as "answers"), not tuned: the bench asks for one fact.
    max_quotes: int = 3
    extra_min_logit: float = 2.0
    extra_margin: float = 3.0  # reader logits below the best sentence's
    low_coverage: float = 0.34  # IDF-weighted share of the question's terms: below it the best covers little
    min_gain: float = 0.25  # a further sentence for coverage must add at least this share of the question's terms
    echo: float = 0.9  # sentence cosine at or above which two sentences are the same statement


@dataclass
class Candidate:
    """One sentence the reader read: where it is and how it scored."""

    hit: Hit  # the passage it is in
    sentence: int
    text: str
    logit: float
    score: float  # logit + retrieval · SS, plus the passage's time signal


@dataclass
class Reading:
    """What the reader made of the retrieved passages."""

    hits: list[Hit]  # the passages, reordered: the one holding the best sentence first
    candidates: list[Candidate] = field(default_factory=list)  # best first

    def best_in(self, i: int) -> Candidate | None:
        """The best read sentence of hit `i` (after reordering), if any of its sentences was read."""
        return next((c for c in self.candidates if c.hit is self.hits[i]), None)

    def position(self, c: Candidate) -> int:
        """Where the passage of `c` stands after reordering."""
        return next(i for i, h in enumerate(self.hits) if h is c.hit)


# A sentence that opens with one of these leans on the one before it ("It caused the most damage…").
_ANAPHOR = re.compile(r"^\W*(?:it|its|they|their|them|this|these|those|that|he|she|his|her|such|there)\b", re.I)


def reader_text(title: str | None, sentence: str, previous: str | None = None) -> str:
    """What the reader sees of a sentence: the article's title, then the sentence; a sentence that opens
    with a pronoun ("They", "It", "These"…) comes after the `previous` sentence of its passage, which says
    what the pronoun stands for."""
    if previous and _ANAPHOR.match(sentence):
        sentence = f"{previous} {sentence}"
    if not title or not title.strip():
        return sentence
    title = title.strip()
    return f"{title} {sentence}" if title[-1] in ".!?:…" else f"{title}. {sentence}"


class SentenceReader:
    """Reads the top passages' sentences with a `Reader` and ranks them (safe to share between threads)."""

    def __init__(self, reader: Reader, weights: ReaderWeights | None = None) -> None:
        self.reader = reader
        self.weights = weights or ReaderWeights()

    @property
    def name(self) -> str:
        return self.reader.name

    def _pool(self, hits: list[Hit], always: int, kind: str | None) -> list[tuple[int, int, float]]:
        """(hit, sentence, SS) of the sentences to read: no captions, and only sentences of the answer type
        `kind` when one is asked for; the best by SS of each of the first `always` passages, then the best by
        SS of the top passages, up to the budget."""
        w = self.weights
        top = hits[:w.passages if kind is None else w.typed_passages]
        pool = [(i, j, float(h.sentence_scores[j])) for i, h in enumerate(top)
                for j, text in enumerate(h.passage.sentence_texts())
                if not is_caption(text) and (kind is None or has_type(text, kind))]
        pool.sort(key=lambda x: -x[2])
        first: dict[int, tuple[int, int, float]] = {}
        for x in pool:
            if x[0] < always:
                first.setdefault(x[0], x)
        rest = [x for x in pool if x not in first.values()]
        return list(first.values()) + rest[:max(0, w.sentences - len(first))]

    def read(self, question: str, hits: list[Hit], always: int = 0, kind: str | None = None) -> Reading:
        """Score the candidate sentences of `hits` for `question` and reorder the passages by them; the best
        sentence of each of the first `always` passages is read whatever the budget. With `kind` (see
        `qa.answer_types`), only sentences holding an answer of that kind are read: no other can answer."""
        pool = self._pool(hits, always, kind)
        if not pool:
            return Reading(list(hits))
        texts = []
        for i, j, _ in pool:
            sentences = hits[i].passage.sentence_texts()
            texts.append(reader_text(hits[i].passage.title, sentences[j], sentences[j - 1] if j else None))
        logits = self.reader.score(question, texts)
        # the question's period or "latest" keeps the weight it has in retrieval (set by hand: the bench has no dates)
        cands = [Candidate(hits[i], j, hits[i].passage.sentence_texts()[j], float(lg),
                           float(lg) + self.weights.retrieval * ss + hits[i].time)
                 for (i, j, ss), lg in zip(pool, logits, strict=True)]
        cands.sort(key=lambda c: -c.score)
        best_of: dict[int, float] = {}
        for c in cands:
            best_of.setdefault(id(c.hit), c.score)
        # read passages by their best sentence, then the unread ones in retrieval order (a stable sort)
        return Reading(sorted(hits, key=lambda h: -best_of.get(id(h), float("-inf"))), cands)

    def extra_quotes(self, query: Query, reading: Reading, first: Candidate) -> list[Candidate]:
        """Further sentences worth quoting after `first`, best first (none for a single-fact question).

        Taken when the question asks for several things, or when `first` covers little of the question;
        each from another passage (another article preferred), never the same statement twice.
        """
        w = self.weights
        several = asks_for_several(query.text)
        hit = first.hit
        covered = float(hit.sentence_coverage[first.sentence])
        if not several and covered >= w.low_coverage:
            return []
        weights = _term_weights(query)
        have = set(terms(first.text))
        chosen = [first]
        eligible = [c for c in reading.candidates if c is not first and c.logit >= w.extra_min_logit
                    and c.logit >= first.logit - w.extra_margin]
        # another article first, then another passage of the same one; each by how well the reader says it answers
        eligible.sort(key=lambda c: (c.hit.passage.source == hit.passage.source, -c.logit))
        for c in eligible:
            if len(chosen) == w.max_quotes:
                break
            if any(c.hit is o.hit or self._same_statement(c, o) for o in chosen):
                continue
            new = set(terms(c.text)) - have
            gain = sum(weights.get(t, 0.0) for t in new)
            if not several and gain < w.min_gain:
                continue
            chosen.append(c)
            have |= new
        return chosen[1:]

    def _same_statement(self, a: Candidate, b: Candidate) -> bool:
        ha, hb = a.hit, b.hit
        if hb.passage in ha.also or ha.passage in hb.also:
            return True
        pool = ha.pool
        if pool is None or pool is not hb.pool:
            return a.text == b.text
        sv = pool.sentence_vectors
        va, vb = sv[pool.starts[ha.row] + a.sentence], sv[pool.starts[hb.row] + b.sentence]
        return float(np.dot(va, vb)) >= self.weights.echo


def _term_weights(query: Query) -> dict[str, float]:
    """Each distinct question term's share of the question (equal shares)."""
    unique = list(dict.fromkeys(query.terms))
    return {t: 1.0 / len(unique) for t in unique} if unique else {}
