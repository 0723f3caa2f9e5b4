"""Sources as their readers see them: a web page's paragraph is cited at the line of the page's source its text is
on (not the `<title>` line), its headline is no part of it, and the article view is the extracted text with each
paragraph's line, never markup; a feed entry is cited as its feed, its title and the line of the feed its text is
on; one rule says whether a citation and an article view are stale."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from qa.bot import Bot
from qa.config import resolve
from qa.documents import load_path
from tests.support.article_files import NEWS_ITEMS, rss, write_pdf
from tests.support.tiny_embedder import TinyEmbedder

HEADLINE = "Kenya opens new container terminal at Mombasa port, doubling capacity"  # 50-80 characters, like a wrapped line
PAGE = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{HEADLINE} | Coast News</title>
<meta property="article:published_time" content="2025-02-03T08:00:00Z">
</head>
<body>
<header>
<nav><ul><li><a href="/">Home</a></li><li><a href="/business">Business</a></li></ul></nav>
</header>
<main>
<article>
<h1>{HEADLINE}</h1>
<p>The Mombasa port opened a new container terminal on Monday,
officials said, after three years of building.</p>
<p>The terminal can handle 550,000 containers a year, doubling the <b>port&rsquo;s</b> capacity.</p>
<h2>What shipping lines say</h2>
<p>Shipping lines welcomed the move, saying it would cut waiting times for vessels at the coast.</p>
</article>
</main>
<footer><p>&copy; 2025 Coast News. All rights reserved.</p></footer>
</body>
</html>
"""


def line_of(text: str, needle: str) -> int:
    return text[:text.index(needle)].count("\n") + 1


def tiny_bot(folder: Path, index: Path) -> Bot:
    bot = Bot(resolve(index=index, reader="none"), embedder=TinyEmbedder())
    report = bot.ingest([folder])
    assert report.errors == [], report.errors
    return bot


def test_a_web_page_paragraph_is_its_own_text_cited_at_its_line(tmp_path: Path) -> None:
    (tmp_path / "port.html").write_text(PAGE, encoding="utf-8")
    (doc,), _ = load_path(tmp_path / "port.html")
    assert doc.title == HEADLINE and doc.date == "2025-02-03"
    first, second, third = doc.blocks
    assert first.text.startswith("The Mombasa port opened")  # the headline is not glued to it
    assert (first.line_start, first.line_end) == (line_of(PAGE, "<p>The Mombasa"), line_of(PAGE, "officials said"))
    assert second.line_start == line_of(PAGE, "<p>The terminal") and "port’s capacity" in second.text
    assert (third.line_start, third.section) == (line_of(PAGE, "<p>Shipping"), "What shipping lines say")
    assert line_of(PAGE, "<title>") not in {b.line_start for b in doc.blocks}


def test_the_article_view_of_a_web_page_is_its_text_with_each_paragraphs_line_never_markup(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "port.html").write_text(PAGE, encoding="utf-8")
    bot = tiny_bot(folder, tmp_path / "idx")
    (found,) = bot.search("How many containers a year can the terminal handle?", k=1)
    assert found.line_start == line_of(PAGE, "<p>The terminal")
    record, lines, stale = bot.article(found.source_id)
    assert stale is False and record.title == HEADLINE
    assert [(x.kind, x.number) for x in lines] == [
        ("headline", line_of(PAGE, "<h1>")), ("paragraph", line_of(PAGE, "<p>The Mombasa")),
        ("paragraph", line_of(PAGE, "<p>The terminal")), ("heading", line_of(PAGE, "<h2>")),
        ("paragraph", line_of(PAGE, "<p>Shipping"))]
    assert not any("<" in x.text or "&" in x.text for x in lines)  # never markup
    assert [x.text for x in lines if x.number == found.line_start] == [found.text]  # the cited line is the quote


FEED_ITEMS = [*NEWS_ITEMS, ("ferry-3", "Likoni ferry", "Wed, 05 Feb 2025 08:00:00 GMT",
                            "<p>A new ferry entered service at Likoni on Wednesday morning.</p>")]


def test_a_feed_entry_is_cited_as_the_feed_its_title_and_the_line_of_the_feed_its_text_is_on(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    text = rss(FEED_ITEMS)
    (folder / "news.rss").write_text(text, encoding="utf-8")
    bot = tiny_bot(folder, tmp_path / "idx")
    (found,) = bot.search("When did a new ferry enter service at Likoni?", k=1)
    assert found.line_start == line_of(text, "A new ferry entered") > line_of(text, "Railway talks")
    assert found.where.endswith(f"news.rss, entry “Likoni ferry”, line {found.line_start}")
    _, lines, _ = bot.article(found.source_id)
    assert [(x.kind, x.number, x.text) for x in lines] == [
        ("headline", line_of(text, "<title>Likoni ferry"), "Likoni ferry"),
        ("paragraph", found.line_start, "A new ferry entered service at Likoni on Wednesday morning.")]


@pytest.mark.parametrize("edit", ["another entry", "the cited entry", "the whole feed"])
def test_a_citation_and_the_article_view_follow_one_staleness_rule(tmp_path: Path, edit: str) -> None:
    """Stale means the cited article's text changed since it was indexed: editing another entry of a feed changes
    the feed file, not the cited entry, and neither the citation nor the article view says stale."""
    folder = tmp_path / "in"
    folder.mkdir()
    feed = folder / "news.rss"
    feed.write_text(rss(FEED_ITEMS), encoding="utf-8")
    bot = tiny_bot(folder, tmp_path / "idx")
    question = "When did a new ferry enter service at Likoni?"
    (before,) = bot.search(question, k=1)
    assert before.stale is False and bot.article(before.source_id)[2] is False
    if edit == "another entry":
        feed.write_text(feed.read_text(encoding="utf-8").replace("Malaba", "Kisumu"), encoding="utf-8")
    elif edit == "the cited entry":
        feed.write_text(feed.read_text(encoding="utf-8").replace("Wednesday", "Thursday"), encoding="utf-8")
    else:
        feed.unlink()
    (after,) = bot.search(question, k=1)
    expected = edit != "another entry"
    assert after.stale is expected
    if feed.exists():
        assert bot.article(after.source_id)[2] is expected


def test_a_date_the_article_states_wins_over_the_files_metadata(tmp_path: Path) -> None:
    """A PDF made today from a report of May 2025 is dated May 2025 (its first day), not today; so is a Word file
    whose byline gives the date; the file's own time stays the date of an article that states none."""
    import docx

    pages = [["Kenya trade report", "May 2025", "", "Tea remained the largest export by value."]]
    write_pdf(tmp_path / "report.pdf", pages)  # reportlab stamps it with today's date
    (doc,), _ = load_path(tmp_path / "report.pdf")
    assert doc.date == "2025-05-01"
    write_pdf(tmp_path / "undated.pdf", [["Kenya trade report", "", "Tea remained the largest export by value."]])
    (undated,), _ = load_path(tmp_path / "undated.pdf")
    assert undated.date == datetime.date.today().isoformat()
    d = docx.Document()
    d.core_properties.created = datetime.datetime(2026, 1, 2, 9, 30)
    d.add_heading("Water policy brief", 0)
    d.add_paragraph("By Jane Doe, Nairobi, 14 March 2025")
    d.add_paragraph("The government plans three new dams in the Rift Valley.")
    d.save(str(tmp_path / "brief.docx"))
    (brief,), _ = load_path(tmp_path / "brief.docx")
    assert brief.date == "2025-03-14"


@pytest.mark.parametrize(("line", "day"), [
    ("NAIROBI, May 12, 2025 — President Ruto said on Monday that the talks would resume within the month.", "2025-05-12"),
    ("By Jane Doe | Published 3 Feb. 2025", "2025-02-03"),
    ("Sept. 9, 2024", "2024-09-09"),
    ("In a statement on Monday, January 27, he outlined the key topics discussed during the telephone call.", None),
    ("The talks began in May 2025 and are expected to continue for many months, officials in Nairobi said.", None),
])
def test_a_dateline_or_byline_gives_the_date_and_a_sentence_that_mentions_one_does_not(line: str,
                                                                                      day: str | None) -> None:
    from qa.documents import parse_text

    assert parse_text("a.txt", f"Kenya and the US resume talks\n\n{line}\n\nThe talks went on.\n").date == day


def test_a_summary_box_is_dropped_with_its_label() -> None:
    """"In a hurry? Here's a quick summary…" and the list under it, or an "Editor's Review" and the one paragraph
    under it, repeat the article in short: neither is article text (the seeds 002 and 004 open with one each)."""
    from qa.documents import load_file, parse_text
    from tests.support.paths import SEEDS

    hurry = load_file(next(SEEDS.glob("002_*.txt")))
    assert min(b.line_start for b in hurry.blocks) == 4  # lines 1-3: the label and its two bullets
    review = load_file(next(SEEDS.glob("004_*.txt")))
    assert min(b.line_start for b in review.blocks) == 5  # lines 1-3: the label, a blank line, its paragraph
    text = ("Kenya and the US resume talks\n\nKey takeaways\n- Talks resume.\n- A deal is near.\n\n"
            "The talks resumed in Nairobi on Monday.\n\nKey takeaways from the summit were listed by the "
            "ministry in a long statement on Tuesday.\n")
    assert [b.text for b in parse_text("a.txt", text).blocks] == [
        "The talks resumed in Nairobi on Monday.",
        "Key takeaways from the summit were listed by the ministry in a long statement on Tuesday."]
