"""The span that answers inside a quoted sentence: of the kind asked for, new to the question, verbatim."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from qa.text.answer_spans import answer_spans, name_spans

SPOKESPERSON = ("In a statement, US State Department spokesperson Tammy Bruce reiterated Secretary Rubio's "
                "appreciation for Kenya’s leadership in Haiti.")


def spans_of(sentence: str, kind: str | None, question: str) -> list[str]:
    return [sentence[s:e] for s, e in answer_spans(sentence, kind, question)]


def test_a_person_span_is_a_name_the_question_did_not_give() -> None:
    got = spans_of(SPOKESPERSON, "person", "Which State Department spokesperson commented on Rubio's call?")
    assert "Tammy Bruce" in got
    assert not any("Rubio" in s for s in got)


def test_a_sentence_that_only_restates_the_question_s_names_holds_no_answer() -> None:
    assert spans_of("Ruto revealed details of a phone call with Secretary of State Marco Rubio.", "person",
                    "Which spokesperson commented on Ruto's call with Secretary of State Marco Rubio?") == []


def test_a_time_span() -> None:
    got = spans_of("The two leaders spoke on Monday, January 27, 2025, about Haiti.", "time",
                   "When did Ruto speak with Rubio?")
    assert any("January 27" in s for s in got)


def test_a_number_span_is_a_figure_not_an_ordinal_or_a_date() -> None:
    assert spans_of("Trump won the election as the 47th President on Nov 05.", "number", "How many votes?") == []
    got = spans_of("The Biden administration pledged Ksh.38.5 billion to the mission.", "number",
                   "How much did the Biden administration pledge?")
    assert got and any("38.5" in s for s in got)


def test_no_kind_no_span() -> None:
    assert answer_spans(SPOKESPERSON, None, "Why did they call?") == []


@given(st.text(max_size=200), st.sampled_from(["person", "place", "organisation", "name", "time", "number"]),
       st.text(max_size=80))
def test_spans_are_ordered_verbatim_slices_of_the_sentence(sentence: str, kind: str, question: str) -> None:
    spans = answer_spans(sentence, kind, question)
    assert all(0 <= s < e <= len(sentence) for s, e in spans)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))
    assert all(0 <= s < e <= len(sentence) for s, e in name_spans(sentence))
