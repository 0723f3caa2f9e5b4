"""Retrieval on the seeds with the real model: the right article first, near-duplicates grouped, every mode
ranked by its scores, and search checked against a brute-force ranking of the same scores."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from qa.errors import InputError
from qa.index import local as store
from qa.index.candidates import Candidates, count_columns
from qa.index.local.store import IndexData
from qa.retrieval.retriever import MODES, Hit, Retriever, near_duplicate
from qa.retrieval.scoring import bm25
from qa.text.lexical import tokens


@pytest.fixture(scope="module")
def index(seeds_index: Path, embedder) -> IndexData:  # type: ignore[no-untyped-def]
    return store.open_index(seeds_index, model=embedder.name)


@pytest.fixture(scope="module")
def retriever(index: IndexData, embedder) -> Retriever:  # type: ignore[no-untyped-def]
    return Retriever(index, embedder)


def prefix(source: str) -> str:
    return os.path.basename(source)[:4]


QUESTIONS = [
    "How much did the Biden administration pledge to the Haiti mission?",
    "Who did Ruto call in January 2025?",
    "What did Ruto say about concluding the STIP agreement?",
    "Which topics did Ruto and Trump discuss?",
    "What did Macron commit to?",
    "Who won the 2022 FIFA World Cup?",
]


def test_haiti_pledge_ranks_002_first(retriever: Retriever) -> None:
    hits = retriever.search(retriever.prepare("How much did the Biden administration pledge to the Haiti mission?"), k=3)
    assert prefix(hits[0].passage.source) == "002_"
    assert "38.5 billion" in hits[0].passage.text
    assert hits[0].passage.line_start == 8


@pytest.mark.parametrize("mode", MODES)
def test_january_2025_call_ranks_the_rubio_articles_first(retriever: Retriever, mode: str) -> None:
    hits = retriever.search(retriever.prepare("Who did Ruto call in January 2025?"), k=3, mode=mode)
    assert prefix(hits[0].passage.source) in ("003_", "004_")
    assert "Rubio" in hits[0].passage.text


@pytest.mark.parametrize("mode", MODES)
def test_statement_quoted_by_two_outlets_comes_once(retriever: Retriever, mode: str) -> None:
    """Ruto's STIP statement is quoted in 003_ (line 11) and 004_ (line 9): one hit, the other article in `also`."""
    hits = retriever.search(retriever.prepare("What did Ruto say about concluding the STIP agreement?"), k=10, mode=mode)
    stip = {("003_", 11), ("004_", 9)}
    where = [(prefix(h.passage.source), h.passage.line_start) for h in hits]
    shown = [i for i, w in enumerate(where) if w in stip]
    assert len(shown) == 1, where
    hit = hits[shown[0]]
    assert shown[0] == 0
    assert [(prefix(o.source), o.line_start) for o in hit.also] == list(stip - {where[shown[0]]})


@pytest.mark.parametrize("question", QUESTIONS)
def test_hits_are_never_near_duplicates_of_each_other(retriever: Retriever, question: str) -> None:
    query = retriever.prepare(question)
    hits = retriever.search(query, k=10)
    pool = retriever.candidates(query)
    for i, a in enumerate(hits):
        for b in hits[i + 1:]:
            assert not near_duplicate(pool, a.row, b.row, {}), (a.passage.text, b.passage.text)
        sources = [o.source for o in a.also]
        assert len(set(sources)) == len(sources) and a.passage.source not in sources
        for o in a.also:
            assert near_duplicate(pool, a.row, pool.passages.index(o), {})


def test_a_short_line_sharing_words_with_a_long_one_is_not_a_copy(retriever: Retriever) -> None:
    """000_ line 19 (Ruto briefed Trump on the mission) and line 21 (the quote, with more in it) share
    their words but not their meaning: both can be retrieved."""
    pool = retriever.candidates(retriever.prepare("Ruto"))
    rows = {(prefix(p.source), p.line_start): r for r, p in enumerate(pool.passages)}
    assert not near_duplicate(pool, rows[("000_", 19)], rows[("000_", 21)], {})
    assert near_duplicate(pool, rows[("003_", 11)], rows[("004_", 9)], {})  # the same STIP quote


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("k", [1, 3, 5])
def test_every_mode_returns_k_hits_best_first(retriever: Retriever, mode: str, k: int) -> None:
    for question in QUESTIONS:
        hits = retriever.search(retriever.prepare(question), k=k, mode=mode)
        assert len(hits) == k
        scores = [h.score for h in hits]
        assert scores == sorted(scores, reverse=True)
        assert len({h.row for h in hits}) == k
        for h in hits:
            assert len(h.sentence_scores) == len(h.sentence_dense) == len(h.passage.sentences)


def _check_against_brute_force(pool: Candidates, hits: tuple[Hit, ...], ps: np.ndarray) -> None:
    """search == walk the passages by descending score, keeping each one that repeats no kept passage."""
    expected: list[int] = []
    for row in np.argsort(-ps, kind="stable"):
        if len(expected) == len(hits):
            break
        if not any(near_duplicate(pool, kept, int(row), {}) for kept in expected):
            expected.append(int(row))
    assert [h.row for h in hits] == expected
    assert [h.score for h in hits] == pytest.approx([float(ps[r]) for r in expected])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("question", QUESTIONS)
def test_search_equals_brute_force_ranking_of_scores(retriever: Retriever, mode: str, question: str) -> None:
    query = retriever.prepare(question)
    ps, _ = retriever.score(query, mode)
    assert ps.shape == (len(retriever.source.passages),)
    _check_against_brute_force(retriever.candidates(query), retriever.search(query, k=5, mode=mode), ps)


def test_dense_scores_equal_cosines_computed_by_hand(retriever: Retriever, embedder) -> None:  # type: ignore[no-untyped-def]
    """Dense passage score = best sentence cosine + best window cosine, from freshly encoded texts."""
    question = "What did the US commit to support Kenya's peace mission?"
    q = embedder.encode([question])[0]
    ps, _ = retriever.score(retriever.prepare(question), "dense")
    for row in (0, 17, 33, len(retriever.source.passages) - 1):
        p = retriever.source.passages[row]
        sents = p.sentence_texts()
        windows = [" ".join(sents[max(0, i - 1):i + 2]) for i in range(len(sents))]
        expected = float(np.max(embedder.encode(sents) @ q) + np.max(embedder.encode(windows) @ q))
        assert ps[row] == pytest.approx(expected, abs=1e-3)


def test_bad_queries(retriever: Retriever) -> None:
    with pytest.raises(InputError):
        retriever.prepare("   ")
    with pytest.raises(InputError, match="mode"):
        retriever.search(retriever.prepare("Haiti"), mode="fuzzy")


def test_k_larger_than_the_corpus_returns_every_distinct_passage(retriever: Retriever) -> None:
    passages = retriever.source.passages
    query = retriever.prepare("Haiti mission")
    hits = retriever.search(query, k=500, pool=500)
    assert 0 < len(hits) < len(passages)
    pool = retriever.candidates(query)
    assert len(pool.passages) == len(passages)
    kept = {h.row for h in hits}
    for row in range(len(passages)):
        assert row in kept or any(near_duplicate(pool, r, row, {}) for r in kept)


def test_empty_index(embedder) -> None:  # type: ignore[no-untyped-def]
    empty = IndexData("all-MiniLM-L6-v2", 384, {}, [])
    r = Retriever(empty, embedder)
    assert r.search(r.prepare("Who did Ruto call?")) == ()


def test_store_wide_bm25_equals_bm25s_over_the_same_texts(index: IndexData) -> None:
    """The candidate scorer's BM25 is the one bm25s computes (ATIRE, k1=1.2, b=0.9) on the whole collection."""
    import bm25s

    texts = [s for p in index.passages for s in p.sentence_texts()]
    reference = bm25s.BM25(method="atire", k1=1.2, b=0.9)
    reference.index([tokens(t) or ["\x00"] for t in texts], show_progress=False)
    st = index.stats
    for question in [*QUESTIONS, "the the Kenya Kenya police"]:
        q = [t for t in tokens(question) if t in reference.vocab_dict]
        df = {t: index.df(t)[0] for t in q}
        columns = list(dict.fromkeys(q))
        tf, lengths = count_columns([tokens(t) for t in texts], columns)
        ours = bm25(tf, lengths, columns, q, df, st.sentences, st.sentence_tokens)
        assert np.allclose(ours, reference.get_scores(q), rtol=1e-4, atol=1e-5)
