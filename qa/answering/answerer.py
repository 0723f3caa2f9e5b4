"""Choosing the answer: the sentence(s) that answer, with numbered citations, or an honest abstention."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qa.answering.answer import Answer, Citation, display_source
from qa.documents.freshness import FileCheck
from qa.documents.view import source_id
from qa.passages import Passage
from qa.reader.reading import Candidate, Reading, SentenceReader
from qa.retrieval.retriever import Hit, Query, Retriever
from qa.text.answer_types import expected_type, has_type


@dataclass(frozen=True)
class Abstention:
    """When the articles are taken not to answer (see `Answerer.choose`). The two thresholds were
    calibrated on out-of-corpus questions with bench/calibrate_abstention.py (README)."""

    min_dense: float = 0.44  # cosine of the answering sentence
    min_coverage: float = 0.52  # IDF-weighted share of the question's terms in that sentence
    answer_type: bool = True  # abstain when the passage lacks the number or time the question asks for
    unknown_names: bool = True  # abstain when the question names someone no article mentions


def _citation(n: int, hit: Hit, sentence: int | None, score: float | None = None) -> Citation:
    """Citation `n` of `hit`, the sentence `sentence` highlighted; `score` is the reader's when it was read."""
    p = hit.passage
    span = p.sentences[sentence] if sentence is not None else None
    return Citation(
        n=n,
        source=display_source(p.source),
        title=p.title,
        date=p.date,
        line_start=p.line_start,
        line_end=p.line_end,
        text=p.text,
        score=hit.score if score is None else score,
        also_in=[display_source(o.source) for o in hit.also],
        section=p.section,
        highlight=span,
        page=p.page,
        url=p.url,
        file=p.path,
        file_hash=p.file_hash,
        source_id=source_id(p.source),
    )


def paragraph_of(p: Passage) -> tuple[str, int | None, int]:
    """The paragraph a passage was cut from: passages of one paragraph share it."""
    return p.source, p.page, p.line_start


POOL = 10  # passages searched for an answer without the reader; only k of them are cited
READ_ALWAYS = 5  # the best sentence of each of the first passages is always read, so every citation has a reader score


class Answerer:
    """Turns a question into an Answer using a Retriever and, when given one, a reader.

    Without a reader the answering sentence is the best of the retrieval's sentence scores (the rules of
    `choose`); with one, the reader's scores choose it, may quote up to three sentences, order the
    passages and decide when the articles do not answer (`choose_read`).
    """

    def __init__(self, retriever: Retriever, abstention: Abstention | None = None,
                 reader: SentenceReader | None = None) -> None:
        self.retriever = retriever
        self.abstention = abstention or Abstention()
        self.reader = reader
        self.files = FileCheck()  # whether a cited file changed since it was indexed

    def best_sentence(self, hits: list[Hit]) -> int:
        """Index of the answering sentence in the top passage (the highest sentence score)."""
        return int(np.argmax(hits[0].sentence_scores))

    def weak(self, hit: Hit, sentence: int) -> bool:
        """A sentence far from the question both in meaning (cosine) and in words (IDF-weighted coverage)."""
        a = self.abstention
        return float(hit.sentence_dense[sentence]) < a.min_dense and float(hit.sentence_coverage[sentence]) < a.min_coverage

    def choose(self, query: Query, hits: list[Hit]) -> tuple[int, int] | None:
        """(hit, sentence) that answers, or None to abstain (without a reader).

        The best sentence of the top passage (or of the rest of its paragraph) answers unless it is
        far from the question in both meaning and words, or the question is about a name no article
        mentions. When the question asks for a number or a time and the top passage has none, the
        best sentence that has one in the other retrieved passages answers instead; if none has,
        the bot abstains.
        """
        a = self.abstention
        s = self.best_sentence(hits)
        top = hits[0]
        if self.weak(top, s):
            return None
        if a.unknown_names and self.retriever.unknown_names(query):
            return None
        # numbers and times only: the retrieval-only rules are kept exactly as they were before the reader
        kind = expected_type(query.text, acronyms=False) if a.answer_type else None
        if kind is None or any(has_type(t, kind) for t in top.passage.sentence_texts()):
            # a long paragraph is cut into several passages only for size: its other parts compete too
            same_paragraph = [(float(h.sentence_scores[j]), i, j) for i, h in enumerate(hits)
                              if paragraph_of(h.passage) == paragraph_of(top.passage)
                              for j in range(len(h.sentence_scores))]
            _, i, j = max(same_paragraph)
            return i, j
        typed = [(float(h.sentence_scores[j]), i, j) for i, h in enumerate(hits[1:], start=1)
                 for j, t in enumerate(h.passage.sentence_texts()) if has_type(t, kind) and not self.weak(h, j)]
        if not typed:
            return None
        _, i, j = max(typed)
        return i, j

    def choose_read(self, query: Query, reading: Reading) -> Candidate | None:
        """The sentence that answers, as the reader read it, or None to abstain.

        The best-scored sentence answers unless the reader's logit for it is low, or the question is
        about a name no article mentions. A question that asks for a number, a time or what an acronym
        stands for is answered only by a sentence that has one (only those were read, see `read`).
        """
        assert self.reader is not None
        if self.abstention.unknown_names and self.retriever.unknown_names(query):
            return None
        best = reading.candidates[0] if reading.candidates else None
        if best is None or best.logit < self.reader.weights.min_logit:
            return None
        return best

    @property
    def pool(self) -> int:
        """How many passages are searched for an answer (the reader reads further down the list)."""
        w = self.reader.weights if self.reader is not None else None
        return POOL if w is None else max(POOL, w.passages, w.typed_passages)

    def read(self, query: Query, hits: list[Hit]) -> Reading | None:
        """The reader's reading of `hits`, or None without a reader (or without hits)."""
        if self.reader is None or not hits:
            return None
        kind = expected_type(query.text) if self.abstention.answer_type else None
        return self.reader.read(query.text, hits, always=READ_ALWAYS, kind=kind)

    def ask(self, question: str, k: int = 3, mode: str = "hybrid", asked_as: str | None = None) -> Answer:
        """Answer `question` (or its rewritten form `asked_as`) from the index."""
        query = self.retriever.prepare(asked_as or question)
        answer = self.compose(question, query, self.retriever.search(query, k=max(k, self.pool), mode=mode), k, asked_as)
        self.mark_stale(answer.citations + answer.nearest)
        return answer

    def mark_stale(self, citations: list[Citation]) -> None:
        """Flag each citation whose file changed or vanished since it was indexed."""
        for c in citations:
            c.stale = self.files.changed(c.file, c.file_hash)

    def search(self, text: str, k: int = 5, mode: str = "hybrid") -> list[Citation]:
        """The `k` best passages for `text`, as citations numbered by rank (no answer is chosen)."""
        query = self.retriever.prepare(text)
        hits = self.retriever.search(query, k=k, mode=mode)
        found = [_citation(i + 1, h, int(np.argmax(h.sentence_scores)) if len(h.sentence_scores) else None)
                 for i, h in enumerate(hits[:k])]
        self.mark_stale(found)
        return found

    def compose(self, question: str, query: Query, hits: list[Hit], k: int = 3, asked_as: str | None = None,
                reading: Reading | None = None) -> Answer:
        """Pick the answering sentence(s) among `hits` and cite `k` of them (the answering ones first), or abstain.

        `reading` is the reader's reading of `hits` when the caller has it already.
        """
        if not hits:
            return Answer(question.strip(), None, True, asked_as=asked_as)
        reading = reading or self.read(query, hits)
        if reading is not None:
            return self._compose_read(question, query, reading, k, asked_as)
        choice = self.choose(query, hits)
        if choice is None:
            nearest = [_citation(i + 1, hit, None) for i, hit in enumerate(hits[:k])]
            return Answer(question.strip(), None, True, nearest=nearest, asked_as=asked_as)
        h, s = choice
        ordered = [hits[h]] + hits[:h] + hits[h + 1:]
        ordered[0].also.extend(self.retriever.echoes(ordered[0], s))
        citations = [_citation(1, ordered[0], s)]
        for n, hit in enumerate(ordered[1:k], start=2):
            j = int(np.argmax(hit.sentence_scores)) if len(hit.sentence_scores) else None
            citations.append(_citation(n, hit, j))
        sentence = ordered[0].passage.sentence_texts()[s]
        return Answer(question.strip(), f"{sentence} [1]", False, citations, asked_as=asked_as)

    def _compose_read(self, question: str, query: Query, reading: Reading, k: int, asked_as: str | None) -> Answer:
        """The answer as the reader chose it: quoted sentences with their markers, their passages cited first."""
        assert self.reader is not None
        best = self.choose_read(query, reading)
        if best is None:
            nearest = [_citation(i + 1, hit, None, _read_score(reading, i)) for i, hit in enumerate(reading.hits[:k])]
            return Answer(question.strip(), None, True, nearest=nearest, asked_as=asked_as)
        quotes = [best, *self.reader.extra_quotes(query, reading, best)]
        quoted = [reading.position(c) for c in quotes]
        order = quoted + [i for i in range(len(reading.hits)) if i not in quoted]
        citations: list[Citation] = []
        for n, i in enumerate(order[:max(k, len(quotes))], start=1):
            hit = reading.hits[i]
            quote = quotes[quoted.index(i)] if i in quoted else None
            if quote is not None:
                hit.also.extend(self.retriever.echoes(hit, quote.sentence))
            shown = quote or reading.best_in(i)
            sentence = shown.sentence if shown else (int(np.argmax(hit.sentence_scores)) if len(hit.sentence_scores) else None)
            citations.append(_citation(n, hit, sentence, _read_score(reading, i)))
        text = " ".join(f"{c.text} [{n}]" for n, c in enumerate(quotes, start=1))
        return Answer(question.strip(), text, False, citations, asked_as=asked_as)


def _read_score(reading: Reading, i: int) -> float | None:
    """The reader's score (logit plus weighted retrieval score) of the best read sentence of reordered hit
    `i`: what ranks the passages (None when none of its sentences was read)."""
    c = reading.best_in(i)
    return c.score if c else None
