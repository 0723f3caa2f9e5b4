"""Extractive answers: the sentence that answers, with numbered citations, or an honest abstention."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qa.answer_types import type_bonus
from qa.retrieval import Hit, Query, Retriever


@dataclass
class Citation:
    """One cited passage, with the answering sentence located inside it."""

    n: int
    source: str
    title: str | None
    date: str | None
    line_start: int
    line_end: int
    text: str
    score: float
    also_in: list[str]
    section: str | None = None
    highlight: tuple[int, int] | None = None  # span of the answering sentence within `text`

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "source": self.source,
            "title": self.title,
            "date": self.date,
            "line_start": self.line_start,
            "line_end": self.line_end,
            "text": self.text,
            "score": round(self.score, 4),
            "also_in": list(self.also_in),
        }


@dataclass
class Answer:
    """The result of one question: one object that every front end renders its own way."""

    question: str
    answer: str | None
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    nearest: list[Citation] = field(default_factory=list)  # shown on abstention, "not an answer"
    asked_as: str | None = None  # the question as rewritten from the conversation, if it was

    def to_json(self) -> dict[str, Any]:
        """The `--json` contract: exactly question, answer, abstained, citations."""
        return {
            "question": self.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "citations": [c.to_json() for c in self.citations],
        }


@dataclass(frozen=True)
class Abstention:
    """Thresholds under which the articles are taken not to answer (calibrated; see README)."""

    min_dense: float = 0.45  # best sentence cosine
    min_coverage: float = 0.5  # share of the question's content terms found in the answer's passage


def _coverage(query: Query, hit: Hit) -> float:
    from qa.lexical import terms

    if not query.terms:
        return 0.0
    have = set(terms(hit.passage.text)) | set(terms(hit.passage.title or "")) | set(terms(hit.passage.section or ""))
    return sum(t in have for t in query.terms) / len(query.terms)


def display_source(source: str) -> str:
    """A path as the user would type it: relative to the working folder when inside it."""
    import os

    if os.path.isabs(source):
        rel = os.path.relpath(source)
        return rel if not rel.startswith("..") else source
    return source


def _citation(n: int, hit: Hit, sentence: int | None) -> Citation:
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
        score=hit.score,
        also_in=[display_source(o.source) for o in hit.also],
        section=p.section,
        highlight=span,
    )


class Answerer:
    """Turns a question into an Answer using a Retriever."""

    def __init__(self, retriever: Retriever, abstention: Abstention | None = None) -> None:
        self.retriever = retriever
        self.abstention = abstention or Abstention()

    def best_sentence(self, query: Query, hits: list[Hit]) -> tuple[int, int, float]:
        """(hit index, sentence index, score) of the sentence that best answers the query."""
        best = (0, 0, -np.inf)
        for i, hit in enumerate(hits):
            for j, text in enumerate(hit.passage.sentence_texts()):
                score = float(hit.sentence_scores[j]) + 0.3 * hit.score + type_bonus(query.text, text)
                if score > best[2]:
                    best = (i, j, score)
        return best

    def abstains(self, query: Query, hit: Hit, sentence: int) -> bool:
        """Whether the best candidate is too weak to count as an answer."""
        dense = float(hit.sentence_dense[sentence])
        return dense < self.abstention.min_dense and _coverage(query, hit) < self.abstention.min_coverage

    def ask(self, question: str, k: int = 3, mode: str = "hybrid", asked_as: str | None = None) -> Answer:
        """Answer `question` (or its rewritten form `asked_as`) from the index."""
        query = self.retriever.prepare(asked_as or question)
        hits = self.retriever.search(query, k=k, mode=mode)
        if not hits:
            return Answer(question.strip(), None, True, asked_as=asked_as)
        h, s, _ = self.best_sentence(query, hits)
        if self.abstains(query, hits[h], s):
            nearest = [_citation(i + 1, hit, None) for i, hit in enumerate(hits)]
            return Answer(question.strip(), None, True, nearest=nearest, asked_as=asked_as)
        ordered = [hits[h]] + [hit for i, hit in enumerate(hits) if i != h]
        citations = [_citation(1, ordered[0], s)]
        for n, hit in enumerate(ordered[1:], start=2):
            j = int(np.argmax(hit.sentence_scores)) if len(hit.sentence_scores) else None
            citations.append(_citation(n, hit, j))
        sentence = ordered[0].passage.sentence_texts()[s]
        return Answer(question.strip(), f"{sentence} [1]", False, citations, asked_as=asked_as)
