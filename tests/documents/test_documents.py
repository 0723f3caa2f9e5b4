"""Loading articles: the seed news format (date line, headline, captions, summary boxes, link lists,
section headings), Markdown and HTML, and the errors for files that are not articles."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from qa.documents import find_files, load_file, parse_text
from qa.errors import SourceError
from qa.passages import split_document
from tests.support.paths import SEEDS


def seed(prefix: str) -> Path:
    (path,) = SEEDS.glob(f"{prefix}*.txt")
    return path


def file_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def covered_lines(path: Path) -> set[int]:
    return {n for b in load_file(path).blocks for n in range(b.line_start, b.line_end + 1)}


@pytest.mark.parametrize(
    ("prefix", "title", "date"),
    [
        ("000_", "5 issues that Ruto discussed with Trump in 1st call after US election victory", "2024-11-09"),
        ("001_", "President Ruto Holds Strategic Call with Trump", None),
        ("002_", None, None),
        ("003_", None, "2025-01-28"),
        ("004_", None, None),
    ],
)
def test_seed_title_and_date(prefix: str, title: str | None, date: str | None) -> None:
    doc = load_file(seed(prefix))
    assert doc.title == title
    assert doc.date == date
    assert doc.source == str(seed(prefix).resolve())
    assert doc.text == seed(prefix).read_text(encoding="utf-8")


def test_rest_of_the_date_line_is_article_text() -> None:
    doc = load_file(seed("003_"))
    first = doc.blocks[0]
    assert first.line_start == 1
    assert first.text.startswith("President William Ruto has revealed details of a phone call")
    assert first.text.endswith("key bilateral and regional issues.")
    assert all("2025-01-28" not in b.text and not b.text.startswith("date") for b in doc.blocks)


def test_headline_is_not_body_text() -> None:
    for prefix in ("000_", "001_"):
        doc = load_file(seed(prefix))
        assert doc.title is not None
        assert all(b.text != doc.title for b in doc.blocks)


# Lines of each seed that are not article text, read off the files: headlines, picture captions
# ("File image of ..."), summary boxes (002_'s label and bullets, 004_'s label and paragraph), the "Read Also:"
# list with its linked headlines, and section headings. Every other non-blank line must reach the passages, except the two lines listed
# as either way (000_ line 1 is site boilerplate after the date; line 32 is an unlabelled photo caption).
NOT_TEXT = {
    "000_": {3, 7, 14, 23},
    "001_": {1},
    "002_": {1, 2, 3, 10, 11, 12},
    "003_": {5, 13, 23, 33},
    "004_": {1, 3, 21},
}
EITHER_WAY = {"000_": {1, 32}}


@pytest.mark.parametrize("prefix", sorted(NOT_TEXT))
def test_exactly_the_article_text_is_kept(prefix: str) -> None:
    path = seed(prefix)
    nonblank = {n for n, line in enumerate(file_lines(path), start=1) if line.strip()}
    covered = covered_lines(path)
    either = EITHER_WAY.get(prefix, set())
    assert not covered & NOT_TEXT[prefix], "a caption, label, heading or link was kept as text"
    assert nonblank - NOT_TEXT[prefix] - either <= covered, "article text was lost"


def test_captions_summary_labels_and_link_lists_are_dropped() -> None:
    texts = [b.text for p in sorted(SEEDS.glob("*.txt")) for b in load_file(p).blocks]
    assert not any(t.startswith("File image") for t in texts)
    assert not any("In a hurry" in t or "quick summary" in t for t in texts)
    assert not any(t.startswith("Editor") for t in texts)
    assert not any(t.startswith("Read Also") for t in texts)
    assert not any("Lang’ata Cemetery" in t or "Congratulates Donald Trump on Historic Return" in t for t in texts)
    # the quoted statement right after the link list is article text again
    assert any(t.startswith("“We discussed areas of mutual interest that are of benefit") for t in texts)


def test_bullets_lose_their_markers() -> None:
    doc = parse_text("a.txt", "Talks resume\n\nThe talks covered:\n- President Ruto reached out to Trump.\n"
                              "- Ruto also updated Trump on Haiti.\n")
    bullets = [b for b in doc.blocks if b.line_start in (4, 5)]
    assert [b.text[:22] for b in bullets] == ["President Ruto reached", "Ruto also updated Trum"]
    assert all(doc.text[b.char_start:b.char_end] == b.text for b in bullets)


def test_section_headings_of_003_become_sections() -> None:
    expected = {
        1: None,
        3: None,
        7: "Strategic Trade Partnership",
        9: "Strategic Trade Partnership",
        11: "Strategic Trade Partnership",
        15: "Haiti Multinational Security Support Mission",
        17: "Haiti Multinational Security Support Mission",
        19: "Haiti Multinational Security Support Mission",
        21: "Haiti Multinational Security Support Mission",
        25: "Regional Peace and Security",
        27: "Regional Peace and Security",
        29: "Regional Peace and Security",
        31: "Regional Peace and Security",
        35: "Strengthening Bilateral Relations",
        37: "Strengthening Bilateral Relations",
    }
    doc = load_file(seed("003_"))
    assert {b.line_start: b.section for b in doc.blocks} == expected
    assert {p.line_start: p.section for p in split_document(doc)} == expected


@pytest.mark.parametrize("path", sorted(SEEDS.glob("*.txt")), ids=lambda p: p.name[:4])
def test_block_offsets_and_lines_point_into_the_file(path: Path) -> None:
    doc = load_file(path)
    lines = file_lines(path)
    for b in doc.blocks:
        assert doc.text[b.char_start:b.char_end] == b.text
        assert b.line_start == b.line_end  # the seeds have one paragraph per line
        assert b.text in lines[b.line_start - 1]
        assert b.text == b.text.strip() and b.text


def test_paragraph_wrapped_over_lines_is_one_block() -> None:
    text = ("Headline Of The Story\n\nThe president said on Friday evening that the long talks with his visitor, which lasted"
            "\ntwo hours, were productive and friendly.\n")
    doc = parse_text("w.txt", text)
    assert doc.title == "Headline Of The Story"
    (block,) = doc.blocks
    assert (block.line_start, block.line_end) == (3, 4)
    assert doc.text[block.char_start:block.char_end] == block.text
    assert block.text.endswith("productive and friendly.")


def test_hard_wrapped_article_keeps_all_its_words() -> None:
    raw = file_lines(seed("001_"))
    body = raw[1:]
    wrapped = raw[0] + "\n\n" + "\n\n".join(textwrap.fill(line, 72) for line in body) + "\n"
    doc = parse_text("wrapped.txt", wrapped)
    assert doc.title == raw[0]
    passage_words = " ".join(p.text for p in split_document(doc)).split()
    assert passage_words == " ".join(body).split()


def test_markdown_front_matter_headings_and_markup() -> None:
    text = (
        "---\ntitle: \"Ruto and Rubio\"\ndate: 2025-01-28\n---\n"
        "# Ruto and Rubio talk trade\n\n"
        "President Ruto spoke with **Secretary Rubio** about [STIP](https://example.org/stip).\n\n"
        "## Haiti\n\n"
        "- They agreed on a joint strategy for the mission.\n"
    )
    doc = parse_text("/x/a.md", text, markdown=True)
    assert doc.title == "Ruto and Rubio"
    assert doc.date == "2025-01-28"
    texts = {b.text: b for b in doc.blocks}
    assert set(texts) == {
        "President Ruto spoke with Secretary Rubio about STIP.",
        "They agreed on a joint strategy for the mission.",
    }
    assert texts["They agreed on a joint strategy for the mission."].section == "Haiti"
    assert texts["President Ruto spoke with Secretary Rubio about STIP."].line_start == 7


def test_markdown_offsets_cover_the_source_paragraph() -> None:
    text = "# Title here\n\nSome **bold** words here. And more text follows.\n"
    doc = parse_text("x.md", text, markdown=True)
    (block,) = doc.blocks
    assert doc.text[block.char_start:block.char_end] == "Some **bold** words here. And more text follows."


HTML = """<!DOCTYPE html>
<html><head><title>Ruto speaks with Rubio</title></head>
<body>
<nav><a href="/">Home</a> <a href="/sports">Sports</a></nav>
<article>
<h1>Ruto speaks with Rubio</h1>
<p>President William Ruto held talks with United States Secretary of State Marco Rubio on a variety of issues.</p>
<p>They discussed the need to conclude the Strategic Trade and Investment Partnership agreement between them.</p>
<p>Ruto also noted that they discussed the Multinational Security Support mission in Haiti and regional security.</p>
</article>
</body></html>
"""


def test_html_article(tmp_path: Path) -> None:
    path = tmp_path / "rubio.html"
    path.write_text(HTML, encoding="utf-8")
    doc = load_file(path)
    assert doc.title == "Ruto speaks with Rubio"
    joined = " ".join(b.text for b in doc.blocks)
    assert "Strategic Trade and Investment Partnership" in joined
    assert "Sports" not in joined
    lines = HTML.splitlines()
    for b in doc.blocks:
        assert b.text[:30] in lines[b.line_start - 1]


def test_non_utf8_file_is_read_with_a_fallback_and_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "cp1252.txt"
    path.write_bytes("Le président a parlé à Nairobi d’un accord.".encode("cp1252"))
    doc = load_file(path)
    assert doc.blocks[0].text == "Le président a parlé à Nairobi d’un accord."
    (warning,) = doc.warnings
    assert warning == f"{path}: not UTF-8 (bad byte at offset 5); read as Windows-1252"
    assert load_file(seed("000_")).warnings == []


def test_bytes_windows_1252_leaves_undefined_fall_back_to_latin_1(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes(b"Ruto spoke in Nairobi \x81 about the trade deal with the United States.")
    doc = load_file(path)
    assert doc.blocks[0].text.startswith("Ruto spoke in Nairobi \x81 about")
    assert doc.warnings[0].endswith("read as Latin-1")


def test_binary_and_empty_files(tmp_path: Path) -> None:
    binary = tmp_path / "b.txt"
    binary.write_bytes(b"President\x00Ruto\x00" * 10)
    with pytest.raises(SourceError, match="binary"):
        load_file(binary)
    empty = tmp_path / "e.txt"
    empty.write_text("\n\n   \n", encoding="utf-8")
    with pytest.raises(SourceError, match="empty file"):
        load_file(empty)
    captions = tmp_path / "c.txt"
    captions.write_text("File image of President Ruto\n", encoding="utf-8")
    with pytest.raises(SourceError, match="no article text"):
        load_file(captions)
    missing = tmp_path / "gone.txt"
    with pytest.raises(SourceError, match="gone before it could be read"):
        load_file(missing)


def test_utf8_bom_is_not_text(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes("\ufeffdate 2025-01-28 Ruto spoke with Rubio about trade.\n".encode())
    doc = load_file(path)
    assert doc.date == "2025-01-28"
    assert doc.blocks[0].text == "Ruto spoke with Rubio about trade."


def test_find_files(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.txt").write_text("x", encoding="utf-8")
    (tmp_path / "a" / "deep").mkdir()
    (tmp_path / "a" / "deep" / "two.MD").write_text("x", encoding="utf-8")
    (tmp_path / "a" / "notes.pdf").write_bytes(b"%PDF")
    (tmp_path / "a" / ".hidden").mkdir()
    (tmp_path / "a" / ".hidden" / "three.txt").write_text("x", encoding="utf-8")
    (tmp_path / "empty").mkdir()
    (tmp_path / "slides.pptx").write_bytes(b"x")
    (tmp_path / "a" / "mail.eml").write_text("x", encoding="utf-8")
    files, problems = find_files([
        tmp_path / "a", tmp_path / "a" / "one.txt", tmp_path / "missing", tmp_path / "empty", tmp_path / "slides.pptx",
    ])
    assert files == [(tmp_path / "a" / "deep" / "two.MD").resolve(), (tmp_path / "a" / "notes.pdf").resolve(),
                     (tmp_path / "a" / "one.txt").resolve()]
    assert problems == [f"{tmp_path / 'a' / 'mail.eml'}: not a supported format (.eml)",
                        f"{tmp_path / 'missing'}: no such file or folder",
                        f"{tmp_path / 'empty'}: no .txt, .md, .html, .pdf, .docx, .rss or .atom files in this folder",
                        f"{tmp_path / 'slides.pptx'}: not a supported format (.pptx)"]


def test_an_index_kept_inside_an_article_folder_is_not_read_as_articles(tmp_path: Path) -> None:
    (tmp_path / "one.txt").write_text("x", encoding="utf-8")
    index = tmp_path / "idx"
    index.mkdir()
    (index / "CURRENT").write_text("manifest-1.json", encoding="utf-8")
    (index / "manifest-1.json").write_text("{}", encoding="utf-8")
    assert find_files([tmp_path]) == ([(tmp_path / "one.txt").resolve()], [])


def test_every_seed_loads() -> None:
    files, problems = find_files([SEEDS])
    assert problems == []
    assert [f.name[:4] for f in files] == ["000_", "001_", "002_", "003_", "004_"]
