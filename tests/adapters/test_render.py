"""What the terminal shows of an answer, exactly: rendered at a fixed width into a string, as rich tests itself."""

from __future__ import annotations

import io

from rich.console import Console

from adapters.common.render import excerpt, plain_answer, render_answer
from qa.answering.answer import Answer, Citation

PLEDGE = ("The Biden administration had supported this mission with a pledge of up to Ksh.38.5 billion, "
          "but with Trump’s impending leadership, the operation’s future could be at risk.")
BLINKEN = "He recently engaged with U.S. Secretary of State Antony Blinken to discuss the future of the Haiti mission."


def cite(n: int, text: str, highlight: tuple[int, int] | None, **kw: object) -> Citation:
    fields: dict = {"source": "seeds/002_55bcac6e1997eb79.txt", "title": None, "date": None, "line_start": 8,
                    "line_end": 8, "score": 6.39, "also_in": []}
    fields.update(kw)
    return Citation(n=n, text=text, highlight=highlight, **fields)


def shown(renderable: object, width: int = 60) -> str:
    """What a 60-column terminal shows (rich pads some lines with spaces; those are dropped)."""
    out = io.StringIO()
    Console(file=out, width=width, color_system=None, force_terminal=False, highlight=False).print(renderable)
    return "\n".join(line.rstrip() for line in out.getvalue().split("\n"))


def test_an_answer_with_two_quotes_and_their_sources() -> None:
    answer = Answer("How much was pledged, and who spoke to Blinken?", f"{PLEDGE} [1] {BLINKEN} [2]", False, [
        cite(1, PLEDGE, (0, len(PLEDGE))),
        cite(2, BLINKEN, (0, len(BLINKEN)), line_start=15, line_end=15, score=3.5, title="Ruto and Blinken",
             date="2024-11-08", also_in=["seeds/004_94dbf8c078f1a21a.txt"]),
    ])
    assert shown(render_answer(answer)) == (
        "The Biden administration had supported this mission with a\n"
        "pledge of up to Ksh.38.5 billion, but with Trump’s impending\n"
        "leadership, the operation’s future could be at risk. [1] He\n"
        "recently engaged with U.S. Secretary of State Antony Blinken\n"
        "to discuss the future of the Haiti mission. [2]\n"
        "\n"
        "[1] seeds/002_55bcac6e1997eb79.txt:8 · score 6.39\n"
        "    The Biden administration had supported this mission with\n"
        "    a pledge of up to Ksh.38.5 billion, but with Trump’s\n"
        "    impending leadership, the operation’s future could be at\n"
        "    risk.\n"
        "\n"
        "[2] seeds/002_55bcac6e1997eb79.txt:15 · Ruto and Blinken ·\n"
        "2024-11-08 · score 3.50\n"
        "    also in: seeds/004_94dbf8c078f1a21a.txt\n"
        "    He recently engaged with U.S. Secretary of State Antony\n"
        "    Blinken to discuss the future of the Haiti mission.\n"
        "\n")


def test_an_abstention_says_so_and_offers_the_nearest_passages() -> None:
    answer = Answer("What is the capital of Peru?", None, True, nearest=[cite(1, PLEDGE, None, score=-9.1)],
                    asked_as="What is the capital of Peru? (Lima)")
    assert shown(render_answer(answer)) == (
        "(taken as: What is the capital of Peru? (Lima))\n"
        "The articles do not answer this question.\n"
        "Nearest, but not an answer:\n"
        "[1] seeds/002_55bcac6e1997eb79.txt:8 · score -9.10\n"
        "    The Biden administration had supported this mission with\n"
        "    a pledge of up to Ksh.38.5 billion, but with Trump’s\n"
        "    impending leadership, the operation’s future … (+18\n"
        "    chars, /sources 1)\n"
        "\n")


def test_a_long_passage_is_folded_around_its_answering_sentence() -> None:
    text = "Before. " * 40 + PLEDGE + " After." * 40
    start = text.index(PLEDGE)
    folded = excerpt(cite(3, text, (start, start + len(PLEDGE))), fold=200).plain
    assert folded == "… " + "Before. " * 7 + PLEDGE + " … (+280 chars, /sources 3)"  # 60 characters before it


def test_plain_lines_for_pipes() -> None:
    answer = Answer("q", f"{PLEDGE} [1]", False, [cite(1, PLEDGE, (0, len(PLEDGE)), date="2024-11-09",
                                                        also_in=["seeds/004_x.txt"])])
    assert plain_answer(answer) == (f"{PLEDGE} [1]\nReported in 2 articles.\n"
                                    "[1] seeds/002_55bcac6e1997eb79.txt:8 · 2024-11-09 (also in: seeds/004_x.txt)\n"
                                    f"    {PLEDGE}")  # the passage, for a reader of the pipe
    assert plain_answer(Answer("q", None, True)) == "The articles do not answer this question."


def test_plain_lines_show_the_pdf_page_the_feed_link_and_a_stale_source() -> None:
    from adapters.common.render import STALE, plain_answer
    from qa.answering.answer import Answer, Citation

    pdf = Citation(n=1, source="reports/trade.pdf", title="Trade", date=None, line_start=12, line_end=14,
                   text="Exports rose.", score=1.0, also_in=[], page=3, stale=True)
    entry = Citation(n=2, source="feeds/news.rss#entry=port-1", title=None, date=None, line_start=1, line_end=1,
                     text="The port opened.", score=1.0, also_in=[], url="https://news.example/port-1")
    lines = plain_answer(Answer("q", "Exports rose. [1]", False, [pdf, entry])).splitlines()
    assert lines[1] == f"[1] reports/trade.pdf p. 3, lines 12–14 · Trade ({STALE})"
    assert lines[2] == "    Exports rose."  # each citation's passage, under it
    assert lines[3] == "[2] feeds/news.rss, entry “port-1”, line 1 · https://news.example/port-1"  # its id: no title
