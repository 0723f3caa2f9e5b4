"""Question sets and scoring: the JSONL and SQuAD loaders, the metrics on hand-made rankings, and the bot
itself scored on tests/data/seeds_questions.jsonl (questions written by reading the five seed articles)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from qa.answering.compose import compose
from qa.errors import SourceError
from qa.evaluation.questions import Question, in_tuning_half, load
from qa.evaluation.scoring import (
    Scores,
    contains_gold,
    evaluate_mode,
    normalise,
    ranked_sources,
    source_matches,
)
from qa.index import local as store
from qa.index.local import ingest_documents
from qa.passages import Passage
from qa.pipeline import Pipeline, Trace
from qa.policy.decide import Decision, Quote
from qa.question.understanding import understand
from qa.reader.models import make_reader
from qa.reader.reading import SentenceReader
from qa.retrieval.retriever import Hit, Query, Retrieval, Retriever
from tests.support.paths import DATA, SEEDS

SEEDS_QUESTIONS = DATA / "seeds_questions.jsonl"


# ---- loaders ----------------------------------------------------------------------------------------------

def test_jsonl_loader(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text(
        '{"q": "Who did Ruto call?", "src": ["003_", "004_"], "key": ["Rubio"]}\n'
        "\n"
        '{"q": "What is the capital of Peru?", "src": [], "key": []}\n'
        '{"q": "Who won?"}\n',
        encoding="utf-8",
    )
    qs = load(path)
    assert qs.documents is None
    a, b, c = qs.questions
    assert (a.q, a.sources, a.keys, a.answerable, a.any_key) == ("Who did Ruto call?", ["003_", "004_"], ["Rubio"], True, False)
    assert (b.answerable, b.keys) == (False, [])
    assert c.sources == [] and not c.answerable
    assert [q.qid for q in qs.questions] == ["q.jsonl:1", "q.jsonl:3", "q.jsonl:4"]


@pytest.mark.parametrize(
    ("bad_line", "why"),
    [('{"q": "Who?", "src": ["003_"]', "not JSON"), ('{"question": "Who?"}', "no q"), ("[1, 2]", "not an object")],
)
def test_jsonl_errors_name_the_line(tmp_path: Path, bad_line: str, why: str) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text('{"q": "One?", "src": []}\n{"q": "Two?", "src": []}\n' + bad_line + "\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"q\.jsonl:3: not a question line"):
        load(path)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.jsonl", b"\n\n", "no questions"),
        ("latin.jsonl", '{"q": "Où?"}\n'.encode("latin-1"), "cannot read"),
        ("broken.json", b'{"data": [', "not valid JSON"),
        ("other.json", b'{"questions": []}', "not SQuAD"),
    ],
)
def test_question_set_file_errors(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(SourceError, match=message):
        load(path)


SQUAD = {
    "version": "v2.0",
    "data": [
        {
            "title": "Nile_River",
            "paragraphs": [
                {
                    "context": "The Nile is a major north-flowing river in northeastern Africa.  It flows into the "
                               "Mediterranean Sea. The Nile is about 6,650 km long.",
                    "qas": [
                        {"id": "n1", "question": "Into which sea does the Nile flow?", "is_impossible": False,
                         "answers": [{"text": "Mediterranean Sea", "answer_start": 83},
                                     {"text": "the Mediterranean Sea", "answer_start": 79},
                                     {"text": "Mediterranean Sea", "answer_start": 83}]},
                        {"id": "n2", "question": "Who first sailed the whole Nile?", "is_impossible": True,
                         "answers": [], "plausible_answers": [{"text": "Nile", "answer_start": 4}]},
                    ],
                },
                {
                    "context": "Photosynthesis is the process by which green plants use sunlight to make sugar "
                               "from carbon dioxide and water. It releases oxygen.",
                    "qas": [
                        {"id": "p1", "question": "What gas does photosynthesis release?", "is_impossible": False,
                         "answers": [{"text": "oxygen", "answer_start": 124}]},
                    ],
                },
            ],
        }
    ],
}


def test_squad_loader(tmp_path: Path) -> None:
    path = tmp_path / "tiny-squad.json"
    path.write_text(json.dumps(SQUAD), encoding="utf-8")
    qs = load(path)
    assert qs.documents is not None
    assert [d.source for d in qs.documents] == ["Nile_River/000", "Nile_River/001"]
    assert all(d.title == "Nile River" for d in qs.documents)
    assert "  " not in qs.documents[0].text  # runs of space collapsed
    assert [b.text for b in qs.documents[1].blocks] == [" ".join(SQUAD["data"][0]["paragraphs"][1]["context"].split())]
    n1, n2, p1 = qs.questions
    assert (n1.qid, n1.sources, n1.keys, n1.any_key) == ("n1", ["Nile_River/000"], ["Mediterranean Sea", "the Mediterranean Sea"], True)
    assert (n2.answerable, n2.sources, n2.keys) == (False, [], [])
    assert (p1.sources, p1.keys) == (["Nile_River/001"], ["oxygen"])


def test_squad_set_scored_end_to_end(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "tiny-squad.json"
    path.write_text(json.dumps(SQUAD), encoding="utf-8")
    qs = load(path)
    assert qs.documents is not None
    ingest_documents(qs.documents, tmp_path / "idx", embedder)
    answerer = Pipeline(Retriever(store.open_index(tmp_path / "idx"), embedder))
    s = evaluate_mode(qs.questions, answerer, "hybrid")
    assert (s.answerable, s.unanswerable) == (2, 1)
    assert s.hit1 == 1.0 and s.mrr10 == 1.0
    assert s.contains == 1.0 and s.answered == 1.0


# ---- metrics ----------------------------------------------------------------------------------------------

def test_hit_at_k_and_mrr_on_a_hand_made_ranking() -> None:
    ranking = [f"/corpus/{i:03d}_x.txt" for i in range(12)]
    s = Scores("hand")
    questions = [
        Question("first", ["000_"]),   # rank 1
        Question("third", ["002_"]),   # rank 3
        Question("fifth", ["004_", "007_"]),  # rank 5 (its first matching source)
        Question("eighth", ["007_"]),  # rank 8: a hit@10 only
        Question("eleventh", ["010_"]),  # beyond the 10 that MRR@10 looks at
    ]
    for q in questions:
        s.answerable += 1
        s.add_ranking(ranking, q)
    s.finish(contains=2, answered=4, abstained=None)
    assert s.hit1 == pytest.approx(1 / 5)
    assert s.hit5 == pytest.approx(3 / 5)
    assert s.mrr10 == pytest.approx((1 + 1 / 3 + 1 / 5 + 1 / 8 + 0) / 5)
    assert s.contains == pytest.approx(2 / 5) and s.answered == pytest.approx(4 / 5)
    assert s.abstained is None


def test_abstention_share_counts_only_unanswerable_questions() -> None:
    s = Scores("x", answerable=4, unanswerable=5)
    s.finish(contains=None, answered=4, abstained=4)
    assert s.abstained == pytest.approx(0.8) and s.answered == 1.0 and s.contains is None


def test_answer_matching_is_normalised() -> None:
    q = Question("How much?", ["002_"], ["Ksh.38.5 billion"])
    assert normalise("  The PLEDGE: “Ksh.38.5  billion”! ") == "the pledge ksh 38 5 billion"
    assert contains_gold("a pledge of up to KSH 38.5 Billion, but", q)
    assert not contains_gold("a pledge of up to Ksh.3.5 billion", q)
    assert not contains_gold(None, q)
    both = Question("Who?", ["003_"], ["Marco Rubio", "Kenya"])
    assert not contains_gold("Marco Rubio spoke.", both)
    assert contains_gold("Marco Rubio spoke with Kenya.", both)
    either = Question("Where?", ["x"], ["Mediterranean Sea", "the Med"], any_key=True)
    assert contains_gold("It reaches the Med.", either)
    assert contains_gold("some answer", Question("Anything?", ["x"], []))


def test_source_matching_by_prefix_or_exact_name() -> None:
    assert source_matches("/a/seeds/002_55bcac6e1997eb79.txt", ["002_"])
    assert not source_matches("/a/002_/005_x.txt", ["002_"])  # the file name counts, not the folder
    assert source_matches("Nile_River/001", ["Nile_River/001"])
    assert not source_matches("Nile_River/001", ["Nile_River/000"])


def test_ranked_sources_follow_the_citations_and_count_every_article_carrying_them() -> None:
    def passage(source: str) -> Passage:
        return Passage(source, None, None, None, "t.", 1, 1, 0, 2, ((0, 2),))

    def hit(source: str, *also: str) -> Hit:
        one = np.zeros(1, dtype=np.float32)
        return Hit(0, passage(source), 1.0, one, one, one, np.zeros((1, 4), dtype=np.float32),
                   tuple(passage(a) for a in also))

    hits = (hit("a", "c"), hit("b"), hit("a"), hit("c", "d"))
    retrieval = Retrieval(Query("q", np.zeros(4, dtype=np.float32), [], []), hits, frozenset(), (),
                          {(1, 0): (passage("e"),)})
    question = understand("q")
    # b is quoted (its sentence is also carried by e), then the rest in the decided order
    decision = Decision((Quote(1, 0),), (1, 0, 2, 3), (0, 0, 0, 0), (None,) * 4)
    trace = Trace(question, retrieval, None, decision, compose(question, retrieval, decision))
    assert ranked_sources(trace) == ["b", "e", "a", "c", "d"]


def test_tuning_split_is_fixed_and_about_half() -> None:
    ids = [f"q{i}" for i in range(400)]
    tune = [i for i in ids if in_tuning_half(i)]
    assert tune == [i for i in ids if in_tuning_half(i)]
    assert 160 < len(tune) < 240


# ---- the seeds question set ---------------------------------------------------------------------------------

def _seed_text(prefix: str) -> str:
    (path,) = SEEDS.glob(f"{prefix}*.txt")
    return path.read_text(encoding="utf-8")


def test_seeds_question_set_is_well_formed() -> None:
    rows = [json.loads(line) for line in SEEDS_QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    prefixes = {p.name[:4] for p in SEEDS.glob("*.txt")}
    assert all(set(r) == {"q", "src", "key"} for r in rows)
    assert len({r["q"] for r in rows}) == len(rows)
    answerable = [r for r in rows if r["src"]]
    unanswerable = [r for r in rows if not r["src"]]
    assert len(answerable) >= 30 and len(unanswerable) >= 10
    assert all(r["key"] == [] for r in unanswerable)
    for r in answerable:
        assert set(r["src"]) <= prefixes and r["key"]
        for key in r["key"]:  # every key is in at least one article said to answer
            assert any(normalise(key) in normalise(_seed_text(p)) for p in r["src"]), (r["q"], key)
    assert len(load(SEEDS_QUESTIONS).questions) == len(rows)


@dataclass
class SeedsRun:
    scores: Scores
    false_abstentions: list[str]
    missed_abstentions: list[str]
    wrong_first: list[str]


@pytest.fixture(scope="module")
def seeds_run(seeds_index: Path, embedder) -> SeedsRun:  # type: ignore[no-untyped-def]
    answerer = Pipeline(Retriever(store.open_index(seeds_index, model=embedder.name), embedder))
    questions = load(SEEDS_QUESTIONS).questions
    scores = evaluate_mode(questions, answerer, "hybrid", k=3)
    run = SeedsRun(scores, [], [], [])
    for q in questions:  # the same steps as evaluate_mode, to name the questions behind the figures
        trace = answerer.run(understand(q.q))
        hits, answer = trace.retrieval.hits, trace.answer
        first = os.path.basename(hits[0].passage.source)[:4]
        if q.answerable and answer.abstained:
            run.false_abstentions.append(q.q)
        if not q.answerable and not answer.abstained:
            run.missed_abstentions.append(f"{q.q} -> {answer.answer}")
        if q.answerable and not source_matches(hits[0].passage.source, q.sources):
            run.wrong_first.append(f"{q.q} -> {first}")
    return run


def test_seeds_questions_hit_at_1(seeds_run: SeedsRun) -> None:
    assert seeds_run.scores.answerable >= 30
    assert seeds_run.scores.hit1 >= 0.8, seeds_run.wrong_first
    assert seeds_run.scores.hit5 >= seeds_run.scores.hit1


@pytest.mark.xfail(strict=True, reason="shortfall without the reader: hybrid abstains on 1 of 36 answerable seed questions (answered "
                   "0.972): 'What instability is the Caribbean nation going through?' (001_ line 11, a paraphrase "
                   "with cosine 0.43 and term coverage 0.30, under both abstention thresholds)")
def test_seeds_questions_are_all_answered(seeds_run: SeedsRun) -> None:
    assert seeds_run.scores.answered == 1.0, seeds_run.false_abstentions


@pytest.mark.xfail(strict=True, reason="shortfall without the reader: hybrid abstains on 11 of 14 unanswerable seed questions (0.786); "
                   "on-topic ones (Trump tariffs, Ruto in Beijing, the next lead country of the Haiti mission) get "
                   "a related sentence as an answer")
def test_seeds_unanswerable_questions_abstain(seeds_run: SeedsRun) -> None:
    assert seeds_run.scores.unanswerable >= 10
    assert seeds_run.scores.abstained is not None and seeds_run.scores.abstained >= 0.8, seeds_run.missed_abstentions


def test_seeds_off_topic_questions_abstain(seeds_run: SeedsRun) -> None:
    """Questions that have nothing to do with the articles are never answered."""
    off_topic = ("Who won the 2022 FIFA World Cup?", "What is the capital of Peru?",
                 "How do you bake sourdough bread at home?", "What is the boiling point of water at sea level?")
    assert not [m for m in seeds_run.missed_abstentions if m.startswith(off_topic)]


# ---- the seeds question set, with the reader ---------------------------------------------------------------

@pytest.fixture(scope="module")
def read_run(seeds_index: Path, embedder) -> SeedsRun:  # type: ignore[no-untyped-def]
    """The default bot (hybrid retrieval and the cross-encoder reader) on the seeds question set."""
    answerer = Pipeline(Retriever(store.open_index(seeds_index, model=embedder.name), embedder),
                        SentenceReader(make_reader()))
    questions = load(SEEDS_QUESTIONS).questions
    run = SeedsRun(evaluate_mode(questions, answerer, "hybrid", k=3), [], [], [])
    for q in questions:
        answer = answerer.ask(q.q)
        if q.answerable and answer.abstained:
            run.false_abstentions.append(q.q)
        if not q.answerable and not answer.abstained:
            run.missed_abstentions.append(f"{q.q} -> {answer.answer}")
        if q.answerable and not answer.abstained and not contains_gold(answer.answer, q):
            run.wrong_first.append(f"{q.q} -> {answer.answer}")
    return run


def test_the_reader_answers_the_seeds_questions_better_than_retrieval_alone(read_run: SeedsRun,
                                                                            seeds_run: SeedsRun) -> None:
    r, plain = read_run.scores, seeds_run.scores
    assert r.contains is not None and plain.contains is not None
    assert r.contains >= 0.9 and r.contains > plain.contains, read_run.wrong_first
    assert r.hit1 >= plain.hit1 and r.hit1 >= 0.9
    assert r.first_contains is not None and r.first_contains >= 0.85
    assert r.quotes is not None and 1.0 <= r.quotes <= 1.5  # a few questions ask for several things


def test_the_reader_abstains_on_most_unanswerable_seeds_questions(read_run: SeedsRun) -> None:
    assert read_run.scores.abstained is not None and read_run.scores.abstained >= 12 / 14, read_run.missed_abstentions
    off_topic = ("Who won the 2022 FIFA World Cup?", "What is the capital of Peru?",
                 "How do you bake sourdough bread at home?", "What is the boiling point of water at sea level?")
    assert not [m for m in read_run.missed_abstentions if m.startswith(off_topic)]


def test_the_reader_answers_every_answerable_seeds_question(read_run: SeedsRun) -> None:
    assert read_run.false_abstentions == []
