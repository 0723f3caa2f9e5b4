"""Answers with the real model on the seeds: the answering sentence with numbered citations, articles that
carry the same statement, and an honest abstention (with the nearest passages) when no article answers."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from adapters.common.render import STALE, plain_answer
from qa.answering.answer import display_source
from qa.bot import Bot
from qa.config import resolve
from qa.embedding import Embedder
from qa.index import local as store
from qa.index.local import ingest_paths
from qa.passages import Passage
from qa.pipeline import Pipeline
from qa.policy.decide import Policy, decide
from qa.question.understanding import understand
from qa.retrieval.retriever import Hit, Query, Retrieval, Retriever

PLEDGE = "How much did the Biden administration pledge to the Haiti mission?"


@pytest.fixture(scope="module")
def answerer(seeds_index: Path, embedder) -> Pipeline:  # type: ignore[no-untyped-def]
    return Pipeline(Retriever(store.open_index(seeds_index, model=embedder.name), embedder))


def prefix(source: str) -> str:
    return os.path.basename(source)[:4]


def test_pledge_answer_cites_002_line_8(answerer: Pipeline) -> None:
    a = answerer.ask(PLEDGE, k=3)
    assert not a.abstained
    assert a.answer is not None and "38.5 billion" in a.answer and a.answer.endswith("[1]")
    first = a.citations[0]
    assert prefix(first.source) == "002_" and first.line_start == first.line_end == 8
    sentence = a.answer.removesuffix(" [1]")
    assert first.highlight is not None and first.text[slice(*first.highlight)] == sentence
    assert [c.n for c in a.citations] == [1, 2, 3]
    scores = [c.score for c in a.citations]
    assert scores == sorted(scores, reverse=True)
    assert a.question == PLEDGE and a.asked_as is None


def test_cited_line_holds_the_cited_text(answerer: Pipeline) -> None:
    a = answerer.ask("Who did Ruto call in January 2025?", k=3)
    for c in a.citations:
        path = Path(c.source) if os.path.isabs(c.source) else Path.cwd() / c.source
        lines = path.read_text(encoding="utf-8").splitlines()
        assert c.text in "\n".join(lines[c.line_start - 1:c.line_end])


def test_statement_carried_by_two_articles_names_both(answerer: Pipeline) -> None:
    a = answerer.ask("What did Ruto say about concluding the STIP agreement?")
    assert not a.abstained and "STIP" in (a.answer or "")
    assert sorted(prefix(s) for s in a.reported_in) == ["003_", "004_"]
    assert [prefix(s) for s in a.citations[0].also_in] == [p for p in ("003_", "004_") if p != prefix(a.citations[0].source)]


@pytest.mark.parametrize(
    ("question", "key", "sources"),
    [
        ("Who did Ruto call in January 2025?", "Rubio", ("003_", "004_")),
        ("Which French president did Ruto speak with?", "Macron", ("004_",)),
        ("How many days did Ruto's state visit to the White House last?", "four days", ("000_",)),
        ("Who is the US State Department spokesperson?", "Tammy Bruce", ("003_",)),
        ("How is Kenya trying to diversify its economic ties?", "agricultural products", ("001_",)),
    ],
)
def test_answerable_questions_are_answered(answerer: Pipeline, question: str, key: str, sources: tuple[str, ...]) -> None:
    a = answerer.ask(question)
    assert not a.abstained
    assert key in (a.answer or "")
    assert prefix(a.citations[0].source) in sources


@pytest.mark.parametrize(
    "question",
    [
        "Who won the 2022 FIFA World Cup?",
        "What is the capital of Peru?",
        "How do I bake sourdough bread?",
        "What is the boiling point of water at sea level?",
        "Which team won the 2023 NBA finals?",
    ],
)
def test_off_topic_questions_abstain_and_offer_the_nearest_passages(answerer: Pipeline, question: str) -> None:
    a = answerer.ask(question, k=3)
    assert a.abstained
    assert a.answer is None and a.citations == []
    assert [c.n for c in a.nearest] == [1, 2, 3]
    assert all(c.highlight is None and c.text for c in a.nearest)  # offered, not presented as an answer
    assert a.to_json() == {"question": question, "answer": None, "abstained": True, "citations": [], "quotes": [],
                           "answer_spans": []}
    assert a.reported_in == []


def test_rewritten_question_is_what_is_searched(answerer: Pipeline) -> None:
    plain = answerer.ask("What did they say about Haiti?")
    rewritten = answerer.ask("What did they say about Haiti?", asked_as="What did they say about Haiti? (Marco Rubio)")
    assert rewritten.question == "What did they say about Haiti?"
    assert rewritten.asked_as == "What did they say about Haiti? (Marco Rubio)"
    assert prefix(rewritten.citations[0].source) in ("003_", "004_")
    assert [c.source for c in plain.citations or plain.nearest] != [c.source for c in rewritten.citations]


def test_json_contract(answerer: Pipeline) -> None:
    out = answerer.ask(PLEDGE).to_json()
    assert list(out) == ["question", "answer", "abstained", "citations", "quotes", "answer_spans"]
    assert [q["text"] for q in out["quotes"]] and all(q["text"] in out["answer"] for q in out["quotes"])
    for c in out["citations"]:
        assert list(c) == ["n", "source", "title", "date", "line_start", "line_end", "text", "score", "also_in",
                           "page", "url", "stale"]
        assert (c["page"], c["url"], c["stale"]) == (None, None, False)  # a seed: no pages, no link, unchanged


def test_a_citation_of_an_edited_file_is_flagged_stale_until_the_next_ingest(seeds_copy: Path, tmp_path: Path,
                                                                            embedder: Embedder) -> None:
    index = tmp_path / "idx"
    ingest_paths([seeds_copy], index, embedder)
    bot = Bot(resolve(index=index), embedder=embedder)
    cited = Path(bot.ask(PLEDGE).citations[0].file)
    assert not bot.ask(PLEDGE).citations[0].stale
    article_id = bot.ask(PLEDGE).citations[0].source_id
    assert bot.article(article_id)[2] is False
    cited.write_text(cited.read_text(encoding="utf-8") + "\nA line added later.\n", encoding="utf-8")
    edited = bot.ask(PLEDGE)
    assert edited.to_json()["citations"][0]["stale"] is True
    assert bot.article(article_id)[2] is True  # the article view says so too
    assert STALE in plain_answer(edited)
    bot.ingest([seeds_copy])
    again = bot.ask(PLEDGE)
    assert again.citations[0].file == str(cited) and again.to_json()["citations"][0]["stale"] is False
    cited.unlink()  # gone: stale too
    assert bot.ask(PLEDGE).citations[0].stale


def _hit(dense: float, coverage: float) -> Hit:
    p = Passage("s.txt", None, None, None, "One sentence.", 1, 1, 0, 13, ((0, 13),))
    return Hit(0, p, 1.0, np.array([1.0]), np.array([dense], dtype=np.float32), np.array([coverage], dtype=np.float32),
               np.ones((1, 4), dtype=np.float32))


@pytest.mark.parametrize(
    ("dense", "coverage", "abstains"),
    [(0.10, 0.10, True), (0.47, 0.51, True), (0.70, 0.10, False), (0.10, 0.90, False), (0.70, 0.90, False)],
)
def test_abstention_needs_both_low_similarity_and_low_coverage(dense: float, coverage: float, abstains: bool) -> None:
    """Answer when the best sentence is close in meaning or holds most of the question's terms."""
    question = understand("Which sentence?")
    retrieval = Retrieval(Query(question.searched, np.ones(4, dtype=np.float32), [], []), (_hit(dense, coverage),),
                          frozenset(), ())
    decision = decide(question, retrieval, None, Policy(min_dense=0.48, min_coverage=0.52))
    assert decision.abstained is abstains


def test_display_source_is_relative_inside_the_working_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert display_source(str(tmp_path / "corpus" / "a.txt")) == os.path.join("corpus", "a.txt")
    assert display_source("/elsewhere/b.txt") == "/elsewhere/b.txt"
    assert display_source("Title/003") == "Title/003"


@pytest.mark.parametrize(
    "question",
    ["What did Ruto discuss with Chinese President Xi Jinping?", "Who is the Prime Minister of Haiti?"],
)
def test_questions_about_names_no_article_mentions_abstain(answerer: Pipeline, question: str) -> None:
    trace = answerer.run(understand(question))
    assert trace.retrieval.unknown_names and trace.decision.reason == "names no article mentions"
    assert trace.answer.abstained


def test_a_lone_unknown_name_beside_known_ones_is_not_decisive(answerer: Pipeline) -> None:
    """"Washington" for the US government: one unknown word among known names does not end the search."""
    trace = answerer.run(understand("How large was Washington's financial commitment to the Haiti force under Biden?"))
    assert trace.retrieval.unknown_names == ()


def test_number_question_without_a_number_in_the_articles_abstains(answerer: Pipeline) -> None:
    answer = answerer.ask("How many Kenyan police officers were deployed to Haiti?")
    assert answer.abstained and answer.nearest


def test_time_question_is_answered_by_a_sentence_with_a_time(answerer: Pipeline) -> None:
    """The top passage about the mission names no time; the answer comes from the one that does."""
    answer = answerer.ask("When did the Multinational Security Support Mission in Haiti begin?")
    assert not answer.abstained
    assert "June" in (answer.answer or "")
    assert prefix(answer.citations[0].source) == "002_"
