"""One view of an answer for every front end (`adapters.common.view`): only what the answer quotes is
highlighted, a card is headed by its article's title, an abstention shows two nearest passages, a link is one a
reader can follow; the page's JSON and Slack's blocks are made from it, and the page's JSON is a `WebAnswer`."""

from __future__ import annotations

from rich.text import Text

from adapters.common.render import render_answer
from adapters.common.view import ABSTAINED, NEAREST_SHOWN, answer_pieces, answer_view, web_json
from adapters.http.models import WebAnswer
from adapters.slack import blocks as sb
from qa.answering.answer import Answer, Citation, Quote


def _cited(n: int, title: str | None = None, url: str | None = None, page: int | None = None) -> Citation:
    text = f"First sentence of passage {n}. The answering sentence {n}."
    return Citation(n=n, source=f"articles/{n:03d}.txt", title=title, date="2025-01-28", line_start=n, line_end=n + 1,
                    text=text, score=0.5, also_in=[], highlight=(text.index("The"), len(text)), url=url, page=page,
                    source_id=f"id{n}")


def test_only_the_citations_the_answer_quotes_are_highlighted() -> None:
    answer = Answer("Who?", "The answering sentence 1. [1] The answering sentence 3. [3]", False,
                    [_cited(1, title="  A  title "), _cited(2), _cited(3, url="javascript:alert(1)", page=4)])
    view = answer_view(answer)
    assert [c.quoted for c in view.citations] == [True, False, True]
    assert [c.highlight is not None for c in view.citations] == [True, False, True]
    assert [c.heading for c in view.citations] == ["A title", "articles/002.txt, lines 2–3",
                                                   "articles/003.txt, p. 4, lines 3–4"]
    assert view.citations[2].link is None and view.headline.startswith("The answering sentence 1.")
    page = web_json(answer)
    WebAnswer.model_validate(page)
    assert [c["highlight"] for c in page["citations"]][1] is None and page["citations"][2]["url"] is None
    blocks, _ = sb.answer_blocks(answer, "a1")
    quotes = [b["text"]["text"] for b in blocks if b["type"] == "section" and b["text"]["text"].startswith(">")]
    assert ["*" in q for q in quotes] == [True, False, True]  # Slack bolds what the page highlights


def test_an_abstention_says_so_once_and_shows_its_nearest_passages_plain() -> None:
    answer = Answer("Why?", None, True, [], nearest=[_cited(1), _cited(2, url="https://news.example/2"), _cited(3)])
    view = answer_view(answer)
    assert view.headline == ABSTAINED == sb.ABSTAIN_TEXT
    assert len(view.nearest) == NEAREST_SHOWN and not any(c.quoted or c.highlight for c in view.nearest)
    assert view.nearest[1].link == "https://news.example/2"
    page = web_json(answer)
    WebAnswer.model_validate(page)
    assert page["headline"] == ABSTAINED and len(page["nearest"]) == NEAREST_SHOWN


def test_the_part_that_answers_is_marked_in_every_front_end() -> None:
    first, second = "Ruto spoke with Rubio on Monday, January 27.", "The call covered Haiti."
    answer = Answer("When did Ruto speak with Rubio?", f"{first} [1] {second} [2]", False, [_cited(1), _cited(2)],
                    quotes=[Quote(first, 1, (first.index("Monday"), len(first) - 1)), Quote(second, 2)])
    pieces = answer_pieces(answer)
    assert "".join(text for text, _ in pieces) == answer.answer
    assert [text for text, marked in pieces if marked] == ["Monday, January 27"]
    page = web_json(answer)
    WebAnswer.model_validate(page)
    assert [p["text"] for p in page["pieces"] if p["answer"]] == ["Monday, January 27"]
    blocks, _ = sb.answer_blocks(answer, "a1")
    said = " ".join(b["text"]["text"] for b in blocks if b["type"] == "section")
    assert "*Monday, January 27*" in said
    terminal = render_answer(answer)
    marked = [span for part in terminal.renderables if isinstance(part, Text) for span in part.spans
              if "underline" in str(span.style)]
    assert [str(terminal.renderables[0])[s.start:s.end] for s in marked] == ["Monday, January 27"]


def test_an_answer_not_made_of_its_quotes_marks_nothing() -> None:
    answer = Answer("Who?", "Edited text [1]", False, [_cited(1)], quotes=[Quote("Other text", 1, (0, 5))])
    assert answer_pieces(answer) == [("Edited text [1]", False)]
    assert answer_pieces(Answer("Why?", None, True)) == []
