"""The answer policy as a pure function: hand-made retrievals and readings in, the decision out (no model)."""

from __future__ import annotations

import numpy as np
import pytest

from qa.answering.compose import compose
from qa.passages import Passage
from qa.policy.decide import Policy, decide
from qa.question.understanding import Question, understand
from qa.reader.reading import Reading, ReadSentence
from qa.retrieval.retriever import Hit, Query, Retrieval
from qa.text.lexical import terms

DIM = 8


def passage(source: str, *sentences: str, date: str | None = None, line: int = 1) -> Passage:
    text, spans, at = "", [], 0
    for s in sentences:
        if text:
            text += " "
            at += 1
        spans.append((at, at + len(s)))
        text += s
        at += len(s)
    return Passage(source, None, date, None, text, line, line, 0, len(text), tuple(spans))


def hit(p: Passage, score: float = 1.0, vector_seed: int = 0) -> Hit:
    n = len(p.sentences)
    rng = np.random.default_rng(vector_seed)
    vectors = rng.normal(size=(n, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ones = np.ones(n, dtype=np.float32)
    return Hit(0, p, score, ones, ones, ones, vectors)


def retrieval(question: Question, hits: list[Hit], leads: tuple[int, ...] = (),
              unknown: tuple[str, ...] = ()) -> Retrieval:
    """A retrieval of `hits`, whose articles mention the question's names when their text does."""
    mentions: dict[str, frozenset[str]] = {}
    for h in hits:
        said = set(terms(h.passage.text))
        mentions[h.passage.source] = mentions.get(h.passage.source, frozenset()) | frozenset(
            n for n in question.names if not terms(n) or terms(n)[-1] in said)
    query = Query(question.searched, np.zeros(DIM, dtype=np.float32), [], terms(question.searched))
    return Retrieval(query, tuple(hits), frozenset(terms(question.searched)), unknown, {}, mentions, -1, leads)


def read(hits: list[Hit], *logits: tuple[int, int, float]) -> Reading:
    """A reading that gave sentence j of hit i the logit, with no retrieval score."""
    return Reading(tuple(ReadSentence(i, j, hits[i].passage.sentence_texts()[j], lg, 0.0) for i, j, lg in logits))


def quoted(question: Question, r: Retrieval, reading: Reading | None, policy: Policy | None = None) -> list[str]:
    decision = decide(question, r, reading, policy or Policy())
    return [r.hits[q.hit].passage.sentence_texts()[q.sentence] for q in decision.quotes]


def test_the_best_read_sentence_is_quoted_and_its_passage_cited_first() -> None:
    q = understand("What did the council decide about the bridge?")
    hits = [hit(passage("a.txt", "The council met on Monday.")), hit(passage("b.txt", "The council voted to rebuild the bridge."))]
    r = retrieval(q, hits)
    decision = decide(q, r, read(hits, (0, 0, 1.0), (1, 0, 6.0)), Policy())
    assert [(x.hit, x.sentence) for x in decision.quotes] == [(1, 0)]
    assert decision.order[0] == 1 and decision.reason is None
    answer = compose(q, r, decision)
    assert answer.answer == "The council voted to rebuild the bridge. [1]"
    assert answer.citations[0].source == "b.txt" and answer.quotes[0].n == 1


def test_a_low_reader_score_abstains_with_its_reason() -> None:
    q = understand("What did the council decide about the bridge?")
    hits = [hit(passage("a.txt", "The council met on Monday."))]
    decision = decide(q, retrieval(q, hits), read(hits, (0, 0, -6.0)), Policy(min_logit=-3.75))
    assert decision.abstained and decision.reason == "no sentence reads as an answer"
    assert compose(q, retrieval(q, hits), decision).nearest  # the nearest passages are still shown


def test_a_name_no_article_mentions_abstains() -> None:
    q = understand("What did Ruto discuss with Xi Jinping?")
    hits = [hit(passage("a.txt", "Ruto discussed trade with Trump."))]
    decision = decide(q, retrieval(q, hits, unknown=("Xi Jinping",)), read(hits, (0, 0, 8.0)), Policy())
    assert decision.abstained and decision.reason == "names no article mentions"


def test_an_article_that_never_names_the_question_s_people_cannot_answer_it() -> None:
    """A Rubio question is not answered from the Trump article, however well it reads."""
    q = understand("When did Ruto speak with Rubio?")
    hits = [hit(passage("trump.txt", "Ruto spoke with Trump on Friday.")),
            hit(passage("rubio.txt", "Ruto and Rubio spoke on Monday, January 27."))]
    r = retrieval(q, hits)
    reading = read(hits, (0, 0, 7.0), (1, 0, 3.0))
    assert quoted(q, r, reading) == ["Ruto and Rubio spoke on Monday, January 27."]
    assert quoted(q, r, reading, Policy(names_must_match=False)) == ["Ruto spoke with Trump on Friday."]


def test_when_no_article_names_them_all_the_names_constrain_nothing() -> None:
    q = understand("When did Ruto speak with Rubio?")
    hits = [hit(passage("trump.txt", "Ruto spoke with Trump on Friday."))]
    assert quoted(q, retrieval(q, hits), read(hits, (0, 0, 7.0))) == ["Ruto spoke with Trump on Friday."]


def test_an_article_dated_outside_the_period_asked_about_cannot_answer() -> None:
    q = understand("Who did Ruto call in January 2025?")
    hits = [hit(passage("old.txt", "Ruto called Trump.", date="2024-11-09")),
            hit(passage("new.txt", "Ruto called Rubio.", date="2025-01-28"))]
    r = retrieval(q, hits)
    reading = read(hits, (0, 0, 8.0), (1, 0, 5.0))
    assert quoted(q, r, reading) == ["Ruto called Rubio."]
    assert quoted(q, r, reading, Policy(period_must_match=False)) == ["Ruto called Trump."]


def test_a_sentence_without_the_kind_of_answer_asked_for_loses_to_one_with_it() -> None:
    """"Which spokesperson…?" is answered by the sentence that names someone new, not the one that restates."""
    q = understand("Which State Department spokesperson commented on Rubio's call with Ruto?")
    hits = [hit(passage("a.txt", "Ruto revealed details of a phone call with Secretary of State Marco Rubio.")),
            hit(passage("b.txt", "State Department spokesperson Tammy Bruce reiterated Rubio's thanks to Ruto."))]
    r = retrieval(q, hits)
    reading = read(hits, (0, 0, 6.2), (1, 0, 5.7))
    assert quoted(q, r, reading, Policy(untyped=0.0)) == [hits[0].passage.text]
    assert quoted(q, r, reading, Policy(untyped=1.0)) == [hits[1].passage.text]


def test_a_kind_that_must_be_held_abstains_when_no_sentence_holds_it() -> None:
    q = understand("How many votes did Trump win?")
    hits = [hit(passage("a.txt", "Trump won the election as the 47th President on Nov 05."))]
    reading = read(hits, (0, 0, 4.0))
    assert quoted(q, retrieval(q, hits), reading, Policy(typed_must_match=())) == [hits[0].passage.text]
    assert decide(q, retrieval(q, hits), reading, Policy(typed_must_match=("number",))).abstained


def test_a_sentence_about_what_may_happen_loses_to_one_about_what_did() -> None:
    q = understand("Did the US commit money to the mission?")
    hits = [hit(passage("a.txt", "This may pave the way for U.S. financial support to the mission.")),
            hit(passage("b.txt", "The US committed $300 million to the mission."))]
    reading = read(hits, (0, 0, 5.0), (1, 0, 4.5))
    assert quoted(q, retrieval(q, hits), reading, Policy(hedged=0.0)) == [hits[0].passage.text]
    assert quoted(q, retrieval(q, hits), reading, Policy(hedged=1.0)) == [hits[1].passage.text]


def test_a_runner_up_the_reader_cannot_tell_from_the_best_is_quoted_too() -> None:
    q = understand("Which team won the cup?")
    hits = [hit(passage("a.txt", "The Panthers lifted the cup."), vector_seed=1),
            hit(passage("b.txt", "Florida won the title in game seven."), vector_seed=2),
            hit(passage("c.txt", "Fans celebrated downtown."), vector_seed=3)]
    r = retrieval(q, hits)
    reading = read(hits, (0, 0, 5.0), (1, 0, 4.6), (2, 0, 1.0))
    assert quoted(q, r, reading, Policy(close_second=0.0)) == [hits[0].passage.text]
    assert quoted(q, r, reading, Policy(close_second=0.5)) == [hits[0].passage.text, hits[1].passage.text]
    # not when it is far behind, nor when the reader does not read it as an answer itself
    assert quoted(q, r, read(hits, (0, 0, 5.0), (1, 0, 3.0)), Policy(close_second=0.5)) == [hits[0].passage.text]
    assert quoted(q, r, read(hits, (0, 0, 0.5), (1, 0, 0.2)), Policy(close_second=0.5, min_logit=-5,
                                                                        second_min_logit=1.0)) == [hits[0].passage.text]


def test_the_runner_up_is_never_the_same_statement() -> None:
    q = understand("Which team won the cup?")
    a = hit(passage("a.txt", "The Panthers lifted the cup."), vector_seed=1)
    b = hit(passage("b.txt", "The Panthers lifted the cup!"), vector_seed=1)  # the same vector: the same statement
    assert quoted(q, retrieval(q, [a, b]), read([a, b], (0, 0, 5.0), (1, 0, 4.9)), Policy(close_second=1.0)) == \
        [a.passage.text]


def test_what_happened_in_a_period_is_answered_by_the_leads_of_its_articles_newest_first() -> None:
    q = understand("What happened in January 2025?")
    assert q.intent == "event"
    hits = [hit(passage("x.txt", "Unrelated words.")),
            hit(passage("late.txt", "Ruto spoke with Rubio.", "More.", date="2025-01-28")),
            hit(passage("early.txt", "File image of the leaders", "Ruto met Macron.", date="2025-01-03"))]
    r = retrieval(q, hits, leads=(1, 2))
    assert quoted(q, r, None) == ["Ruto spoke with Rubio.", "Ruto met Macron."]  # a caption is never quoted
    none = decide(q, retrieval(q, hits, leads=()), None, Policy())
    assert none.abstained and none.reason == "no article is dated in that period"


def test_the_latest_news_is_the_lead_of_the_newest_article() -> None:
    q = understand("What is the latest news about Kenya?")
    assert q.intent == "latest"
    hits = [hit(passage("old.txt", "Kenya signed a deal.")), hit(passage("new.txt", "Kenya hosted talks."))]
    assert quoted(q, retrieval(q, hits, leads=(1, 0)), read(hits, (0, 0, 9.0))) == ["Kenya hosted talks."]
    # no dated article: answered as any other question
    assert quoted(q, retrieval(q, hits), read(hits, (0, 0, 9.0))) == ["Kenya signed a deal."]


def test_a_question_about_things_no_article_holds_abstains() -> None:
    q = understand("What tariffs did Rubio announce on Kenyan tea?")
    hits = [hit(passage("a.txt", "Rubio spoke with Kenyan President Ruto."))]
    r = Retrieval(Query(q.searched, np.zeros(DIM, dtype=np.float32), [], terms(q.searched)), tuple(hits),
                  frozenset({"rubio", "announc", "kenyan"}), ())
    reading = read(hits, (0, 0, 4.0))
    assert not decide(q, r, reading, Policy(max_unknown=0.5)).abstained  # 2 of 5 terms unknown
    assert decide(q, r, reading, Policy(max_unknown=0.4)).reason == "asks about things no article mentions"


@pytest.mark.parametrize(("dense", "coverage", "abstains"),
                         [(0.10, 0.10, True), (0.47, 0.51, True), (0.70, 0.10, False), (0.10, 0.90, False)])
def test_without_the_reader_abstention_needs_both_low_similarity_and_low_coverage(dense: float, coverage: float,
                                                                                  abstains: bool) -> None:
    q = understand("Which sentence?")
    h = Hit(0, passage("s.txt", "One sentence."), 1.0, np.array([1.0]), np.array([dense], dtype=np.float32),
            np.array([coverage], dtype=np.float32), np.ones((1, DIM), dtype=np.float32))
    assert decide(q, retrieval(q, [h]), None, Policy(min_dense=0.48, min_coverage=0.52)).abstained is abstains


def test_the_answer_span_marks_the_answer_inside_the_quote_verbatim() -> None:
    q = understand("Which State Department spokesperson commented on Rubio's call?")
    hits = [hit(passage("b.txt", "State Department spokesperson Tammy Bruce reiterated Rubio's thanks to Ruto."))]
    r = retrieval(q, hits)
    answer = compose(q, r, decide(q, r, read(hits, (0, 0, 5.0)), Policy()))
    quote = answer.quotes[0]
    assert quote.answer_span is not None and quote.text[slice(*quote.answer_span)] == "Tammy Bruce"
    assert answer.to_json()["answer_spans"] == [list(quote.answer_span)]
    assert answer.about == ("Tammy Bruce",)
