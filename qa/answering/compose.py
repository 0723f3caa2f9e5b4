"""Composing the answer from the policy's decision: the quoted sentences with their markers, and the cited
passages in the decided order, each with the sentence to show and the other articles that carry it."""

from __future__ import annotations

import re

from qa.answering.answer import Answer, Citation, Quote, display_source
from qa.documents.view import source_id
from qa.passages import Passage
from qa.policy.decide import Decision
from qa.question.understanding import Question
from qa.retrieval.retriever import Hit, Retrieval
from qa.text.answer_spans import NAMED, answer_spans


def citation(n: int, hit: Hit, sentence: int | None, score: float | None = None,
             echoes: tuple[Passage, ...] = ()) -> Citation:
    """Citation `n` of `hit`, the sentence `sentence` highlighted; `score` is the reader's when it was read;
    `echoes` are further articles that carry the highlighted sentence."""
    p = hit.passage
    return Citation(
        n=n,
        source=display_source(p.source),
        title=p.title,
        date=p.date,
        line_start=p.line_start,
        line_end=p.line_end,
        text=p.text,
        score=hit.score if score is None else score,
        also_in=[display_source(o.source) for o in (*hit.also, *echoes)],
        section=p.section,
        highlight=p.sentences[sentence] if sentence is not None else None,
        page=p.page,
        url=p.url,
        file=p.path,
        file_hash=p.file_hash,
        source_id=source_id(p.source),
    )


def compose(question: Question, retrieval: Retrieval, decision: Decision, k: int = 3) -> Answer:
    """The answer the decision describes, citing `k` passages (more when more sentences are quoted)."""
    hits = retrieval.hits
    if decision.abstained:
        nearest = [citation(n, hits[i], None, decision.scores[pos])
                   for n, (pos, i) in enumerate(list(enumerate(decision.order))[:k], start=1)]
        return Answer(question.text, None, True, nearest=nearest, asked_as=question.asked_as)
    quoted = {q.hit: q for q in decision.quotes}
    citations = []
    for pos, i in enumerate(decision.order[:max(k, len(decision.quotes))]):
        echoes = retrieval.echoes_of(i, quoted[i].sentence) if i in quoted else ()
        citations.append(citation(pos + 1, hits[i], decision.shown[pos], decision.scores[pos], echoes))
    quotes = []
    for n, q in enumerate(decision.quotes, start=1):
        text = hits[q.hit].passage.sentence_texts()[q.sentence]
        spans = answer_spans(text, question.answer_kind, question.searched) if question.intent is None else []
        quotes.append(Quote(text, n, spans[0] if spans else None))
    text = " ".join(f"{q.text} [{q.n}]" for q in quotes)
    first = quotes[0]
    # "Trump and Secretary of State Blinken" answers as two people: a follow-up's "he" is the first
    about = (tuple(n.strip() for n in re.split(r"\s+(?:and|&)\s+", first.text[slice(*first.answer_span)]) if n.strip())
             if first.answer_span and question.answer_kind in NAMED else ())
    return Answer(question.text, text, False, citations, asked_as=question.asked_as, quotes=quotes, about=about)


def ranked(retrieval: Retrieval, k: int) -> list[Citation]:
    """The `k` best passages as citations numbered by rank, each with its best sentence shown (no answer)."""
    return [citation(n, h, h.best_sentence()) for n, h in enumerate(retrieval.hits[:k], start=1)]
