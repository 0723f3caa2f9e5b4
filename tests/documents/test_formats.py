"""PDF, Word and feed files, as the tests write them with real writers: read into documents that know their page,
paragraph or entry link; asked about, answered with a citation to the right page, paragraph or link; and
every file that cannot be read skipped with one line of its own while the rest of the ingest goes on."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from adapters.cli import commands
from adapters.common.exits import EXIT_SKIPPED
from adapters.main import main
from qa.bot import Bot
from qa.config import resolve
from qa.documents import load_path
from qa.embedding import SentenceTransformerEmbedder
from qa.errors import SourceError
from qa.index.local import ingest_paths, open_index
from qa.passages import split_document
from tests.support.article_files import (
    NEWS_ITEMS,
    REPORT_PAGES,
    atom,
    rss,
    write_blank_pdf,
    write_docx,
    write_encrypted_pdf,
    write_pdf,
)
from tests.support.paths import SEEDS
from tests.support.tiny_embedder import TinyEmbedder


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("formats")
    write_pdf(folder / "report.pdf", REPORT_PAGES)
    write_docx(folder / "brief.docx")
    (folder / "news.rss").write_text(rss(NEWS_ITEMS), encoding="utf-8")
    (folder / "wire.atom").write_text(atom([
        ("urn:wire:1", "Coffee auction", "2025-02-05T10:00:00Z",
         "<p>The Nairobi coffee auction sold 30,000 bags of arabica this week.</p>")]), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def bot(corpus: Path, tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder) -> Bot:
    index = tmp_path_factory.mktemp("formats-index")
    report = ingest_paths([corpus], index, embedder)
    assert report.errors == [] and len(report.added) == 5  # a PDF, a .docx, two RSS items, one Atom entry
    return Bot(resolve(index=index), embedder=embedder)


def test_a_pdf_is_read_page_by_page_with_lines_counted_within_each_page(corpus: Path) -> None:
    (doc,), problems = load_path(corpus / "report.pdf")
    assert problems == [] and doc.title == "Kenya trade report 2024"  # from the PDF's metadata
    assert [(b.page, b.line_start, b.text) for b in doc.blocks] == [
        (1, 2, REPORT_PAGES[0][2]), (1, 3, REPORT_PAGES[0][3]),
        (2, 2, REPORT_PAGES[1][2]), (2, 3, REPORT_PAGES[1][3]),
        (3, 2, REPORT_PAGES[2][2])]
    assert [b.section for b in doc.blocks][2:] == ["Avocado exports", "Avocado exports", "Outlook"]
    passages = split_document(doc)
    assert {p.page for p in passages} == {1, 2, 3}
    assert all(p.line_start == p.line_end for p in passages)  # no passage runs over a page break


def test_a_docx_counts_paragraphs_as_lines_and_takes_headings_as_sections(corpus: Path) -> None:
    (doc,), _ = load_path(corpus / "brief.docx")
    assert (doc.title, doc.date) == ("Water policy brief", "2025-03-04")
    assert [(b.line_start, b.section, b.text) for b in doc.blocks] == [
        (3, "Dams", "The government plans three new dams in the Rift Valley."),
        (5, "Dams", "Each dam will cost about 20 billion shillings."),
        (7, "Irrigation", "Irrigation schemes in Galana will cover 10,000 acres by 2026.")]


def test_each_feed_entry_is_a_document_with_its_title_date_and_link(corpus: Path) -> None:
    docs, problems = load_path(corpus / "news.rss")
    assert problems == []
    assert [(d.title, d.date, d.url) for d in docs] == [
        ("Mombasa port expands", "2025-02-03", "https://news.example/port-1"),
        ("Railway talks resume", "2025-02-04", "https://news.example/rail-2")]
    assert [b.text for b in docs[0].blocks] == ["The Mombasa port opened a new container terminal on Monday.",
                                                "The terminal can handle 550,000 containers a year."]
    assert {d.file for d in docs} == {str((corpus / "news.rss").resolve())}
    assert len({d.source for d in docs}) == 2


def line_in(path: Path, text: str) -> int:
    """The line of the file `path` where `text` is."""
    raw = path.read_text(encoding="utf-8")
    return raw[:raw.index(text)].count("\n") + 1


@pytest.mark.parametrize(("question", "quoted", "file", "page", "lines", "url"), [
    ("How many tonnes of avocados did Kenya ship to Europe?", "120,000 tonnes", "report.pdf", 2, (2, 2), None),
    ("How many acres will the Galana irrigation schemes cover?", "10,000 acres", "brief.docx", None, (7, 7), None),
    # a feed entry is cited at the line of the feed file its text is on
    ("How many containers a year can the new Mombasa terminal handle?", "550,000 containers", "news.rss", None,
     "The terminal can handle", "https://news.example/port-1"),
    ("How many bags of arabica did the Nairobi coffee auction sell?", "30,000 bags", "wire.atom", None,
     "The Nairobi coffee auction", "https://wire.example/urn:wire:1"),
])
def test_questions_are_answered_from_each_format_with_the_right_page_paragraph_or_link(
        bot: Bot, corpus: Path, question: str, quoted: str, file: str, page: int | None,
        lines: tuple[int, int] | str, url: str | None) -> None:
    if isinstance(lines, str):
        lines = (line_in(corpus / file, lines),) * 2
        assert lines[0] > 3
    answer = bot.ask(question)
    assert not answer.abstained and quoted in (answer.answer or "")
    top = answer.to_json()["citations"][0]
    assert top["source"].split("#entry=")[0].endswith(file)
    assert (top["page"], (top["line_start"], top["line_end"]), top["url"]) == (page, lines, url)
    assert top["stale"] is False
    record, lines, stale = bot.article(answer.citations[0].source_id)  # the whole article, as a front end shows it
    assert stale is False  # read again now, the file gives the document that was indexed
    cited = [x.text for x in lines if (x.page, x.number) == (page, top["line_start"])]
    assert any(quoted in text for text in cited), cited  # (both paragraphs of the feed entry are on one line)


def test_an_updated_feed_adds_new_entries_updates_changed_ones_and_keeps_those_it_dropped(
        tmp_path: Path) -> None:
    feed = tmp_path / "news.rss"
    feed.write_text(rss(NEWS_ITEMS), encoding="utf-8")
    index, tiny = tmp_path / "idx", TinyEmbedder()
    first = ingest_paths([tmp_path], index, tiny)
    assert len(first.added) == 2
    changed = (NEWS_ITEMS[0][0], NEWS_ITEMS[0][1], NEWS_ITEMS[0][2],
               "<p>The Mombasa port opened its second new container terminal this year.</p>")
    new = ("ferry-3", "Likoni ferry", "Wed, 05 Feb 2025 08:00:00 GMT", "<p>A new ferry entered service at Likoni.</p>")
    feed.write_text(rss([changed, new]), encoding="utf-8")  # the railway item has left the feed
    second = ingest_paths([tmp_path], index, tiny)
    assert [s.split("#entry=")[1] for s in second.added] == ["ferry-3"]
    assert [s.split("#entry=")[1] for s in second.updated] == ["port-1"]
    assert second.removed == []
    assert sorted(s.split("#entry=")[1] for s in open_index(index).documents()) == ["ferry-3", "port-1", "rail-2"]
    feed.unlink()  # the feed itself gone: all its entries go
    third = ingest_paths([tmp_path], index, tiny)
    assert len(third.removed) == 3 and open_index(index).documents() == {}


def test_htm_and_xhtml_pages_are_read(tmp_path: Path) -> None:
    page = ("<html><head><title>Port news</title></head><body><article><h1>Port news</h1>"
            "<p>The Lamu port received its first cargo ship from Oman on Friday morning.</p></article></body></html>")
    for name in ("a.htm", "b.xhtml"):
        (tmp_path / name).write_text(page, encoding="utf-8")
        (doc,), _ = load_path(tmp_path / name)
        assert any("Lamu port" in b.text for b in doc.blocks)


@pytest.fixture
def bad_folder(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A folder of one good article and one file of each kind that cannot be read, with the reason expected."""
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(next(SEEDS.glob("000_*.txt")), folder / "good.txt")
    good_pdf = write_pdf(tmp_path / "good.pdf", REPORT_PAGES)
    (folder / "truncated.pdf").write_bytes(good_pdf.read_bytes()[:400])
    write_encrypted_pdf(folder / "locked.pdf", good_pdf)
    write_blank_pdf(folder / "scan.pdf")
    write_blank_pdf(folder / "huge.pdf", pages=10_000)
    shutil.make_archive(str(tmp_path / "other"), "zip", SEEDS)
    shutil.copy(tmp_path / "other.zip", folder / "notword.docx")
    (folder / "broken.rss").write_text("this is not XML at all, only words", encoding="utf-8")
    (folder / "mail.eml").write_text("From: a@example.org\n\nHello", encoding="utf-8")
    (folder / "sheet.xlsx").write_bytes(b"PK\x03\x04")
    expected = {
        "truncated.pdf": "not a readable PDF", "locked.pdf": "encrypted PDF (password-protected)",
        "scan.pdf": "no text layer (scanned?)", "huge.pdf": "too many pages (10000",
        "notword.docx": "not a readable Word document", "broken.rss": "not a readable RSS or Atom feed",
        "mail.eml": "not a supported format (.eml)", "sheet.xlsx": "not a supported format (.xlsx)"}
    return folder, expected


def test_each_bad_file_gets_its_own_reason_and_the_rest_is_indexed(bad_folder: tuple[Path, dict[str, str]],
                                                                   tmp_path: Path) -> None:
    folder, expected = bad_folder
    report = ingest_paths([folder], tmp_path / "idx", TinyEmbedder())
    assert [Path(s).name for s in report.added] == ["good.txt"]
    reasons = {Path(e.split(": ", 1)[0]).name: e.split(": ", 1)[1] for e in report.errors}
    assert reasons.keys() == expected.keys()
    for name, reason in expected.items():
        assert reasons[name].startswith(reason), (name, reasons[name])


def test_a_feed_entry_without_text_is_skipped_with_a_line_and_the_others_indexed(tmp_path: Path) -> None:
    (tmp_path / "f.rss").write_text(rss([NEWS_ITEMS[0], ("empty-9", "Nothing here", NEWS_ITEMS[0][2], "")]),
                                    encoding="utf-8")
    docs, problems = load_path(tmp_path / "f.rss")
    assert [d.title for d in docs] == ["Mombasa port expands"]
    assert problems == [f"{tmp_path / 'f.rss'}: entry 'Nothing here' has no text"]
    with pytest.raises(SourceError, match="has no text"):
        (tmp_path / "g.rss").write_text(rss([("empty-9", "Nothing here", NEWS_ITEMS[0][2], "")]), encoding="utf-8")
        load_path(tmp_path / "g.rss")


def test_qa_ingest_names_each_unsupported_file_and_exits_3(bad_folder: tuple[Path, dict[str, str]], tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    folder, expected = bad_folder
    monkeypatch.setattr(commands, "Bot", lambda settings: Bot(settings, embedder=TinyEmbedder()))
    index = tmp_path / "idx"
    assert main(["ingest", str(folder / "good.txt"), "--index", str(index)]) == 0
    capsys.readouterr()
    assert main(["ingest", str(folder), "--index", str(index)]) == EXIT_SKIPPED
    err = capsys.readouterr().err.splitlines()
    assert f"warning: skipped {folder / 'mail.eml'}: not a supported format (.eml)" in err
    assert len(err) == len(expected) and "Traceback" not in "\n".join(err)
    assert [Path(s).name for s in open_index(index).documents()] == ["good.txt"]


def test_a_pdf_that_turns_bad_keeps_its_indexed_passages(tmp_path: Path) -> None:
    pdf = write_pdf(tmp_path / "report.pdf", REPORT_PAGES)
    index, tiny = tmp_path / "idx", TinyEmbedder()
    ingest_paths([tmp_path], index, tiny)
    before = open_index(index).documents()
    pdf.write_bytes(pdf.read_bytes()[:300])  # truncated by a failed copy
    report = ingest_paths([tmp_path], index, tiny)
    assert len(report.errors) == 1 and "not a readable PDF" in report.errors[0]
    assert report.removed == [] and open_index(index).documents() == before
