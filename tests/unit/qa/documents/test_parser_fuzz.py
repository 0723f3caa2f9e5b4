"""Every parser, fuzzed: plain text, Markdown, HTML, PDF, Word and feeds get random and mutated files, and
each gives documents (that split into passages of bounded length) or one SourceError line naming the file,
never another exception. Bounded: a few dozen examples per format, and a deadline per example."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa.documents import Document, load_path
from qa.errors import SourceError
from qa.passages import MAX_PASSAGE_CHARS, split_document
from tests.support.article_files import NEWS_ITEMS, rss, write_docx
from tests.support.hostile_files import write_good_pdf

FUZZ = settings(max_examples=int(os.environ.get("QA_FUZZ_EXAMPLES", "60")), deadline=10_000, suppress_health_check=[HealthCheck.too_slow], database=None)


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def good(work: Path) -> dict[str, bytes]:
    """A valid file of each binary or structured format, to mutate."""
    return {".pdf": write_good_pdf(work / "good.pdf").read_bytes(), ".docx": write_docx(work / "good.docx").read_bytes(),
            ".rss": rss(NEWS_ITEMS).encode()}


def read(path: Path, data: bytes) -> None:
    """Load `data` as the file `path`: documents that split into bounded passages, or one clean line."""
    path.write_bytes(data)
    try:
        docs, problems = load_path(path)
    except SourceError as exc:
        message = str(exc)
        assert message.startswith(f"{path}: ") and "\n" not in message, message
        return
    assert docs and all(isinstance(d, Document) and d.blocks for d in docs)
    assert all("\n" not in p for p in problems)
    for doc in docs:
        assert all(len(p.text) <= MAX_PASSAGE_CHARS for p in split_document(doc))


def mutated(original: bytes) -> st.SearchStrategy[bytes]:
    """`original` with a few bytes flipped, a run overwritten or inserted, or cut short."""
    n = len(original)

    def flip(at_and_bytes: tuple[list[int], bytes]) -> bytes:
        at, junk = at_and_bytes
        data = bytearray(original)
        for i, pos in enumerate(at):
            data[pos % n] ^= junk[i % len(junk)] | 1
        return bytes(data)

    flips = st.tuples(st.lists(st.integers(0, n - 1), min_size=1, max_size=8), st.binary(min_size=1, max_size=8)).map(flip)
    spliced = st.tuples(st.integers(0, n), st.binary(max_size=200), st.integers(0, 64)).map(
        lambda t: original[:t[0]] + t[1] + original[t[0] + t[2]:])
    cut = st.integers(0, n).map(lambda k: original[:k])
    return st.one_of(flips, spliced, cut)


_WORDS = st.sampled_from(["Kenya", "the", "talks", "said", "U.S.", "Mr.", "2025", "—", "…", "\u202e", "é", "\x1b[31m",
                          "##", "*", "[link](x)", "- ", "1.", "---", "date 2025-01-02", ".", "?", "“", "\t", "\r"])
_LINES = st.lists(st.lists(_WORDS, max_size=30).map(" ".join), max_size=40).map("\n".join)
_TEXT = st.one_of(_LINES.map(str.encode), st.binary(max_size=2000),
                  _LINES.map(lambda t: t.encode("utf-16")), _LINES.map(lambda t: t.encode("cp1252", "replace")))


@FUZZ
@given(data=_TEXT, suffix=st.sampled_from([".txt", ".md"]))
def test_plain_text_and_markdown(work: Path, data: bytes, suffix: str) -> None:
    read(work / f"article{suffix}", data)


_TAGS = st.sampled_from(["<p>", "</p>", "<div>", "</div>", "<script>", "</script>", "<style>", "<br/>", "<title>",
                         "</title>", "<article>", "<h1>", "</h1>", "<a href='x'>", "</a>", "<!--", "-->", "<",
                         "&amp;", "&#0;", "&#x202e;", "<![CDATA[", "]]>", "<meta name='date' content='2025-01-02'>"])
_HTML = st.lists(st.one_of(_TAGS, _WORDS), max_size=120).map(" ".join)


@FUZZ
@given(page=_HTML)
def test_html(work: Path, page: str) -> None:
    read(work / "page.html", page.encode())


@FUZZ
@given(data=st.data())
def test_pdf(work: Path, good: dict[str, bytes], data: st.DataObject) -> None:
    read(work / "report.pdf", data.draw(mutated(good[".pdf"])))


_WORD_XML = st.lists(st.sampled_from(
    ["<w:p>", "</w:p>", "<w:r>", "</w:r>", "<w:t>", "</w:t>", "<w:pPr><w:pStyle w:val='Heading1'/></w:pPr>",
     "<w:p/>", "&lol;", "<!DOCTYPE w:document [<!ENTITY lol 'lol'>]>", "<w:tbl>", "</w:tbl>", "<w:br/>",
     "Kenya signed the pact.", "\u202e", "<w:body>", "</w:body>"]), max_size=80).map(
    lambda parts: ('<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/'
                   '2006/main"><w:body>' + "".join(parts) + "</w:body></w:document>").encode())


def _with_document_xml(docx: bytes, xml: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, xml if item.filename == "word/document.xml" else src.read(item.filename))
    return out.getvalue()


@FUZZ
@given(data=st.data())
def test_word(work: Path, good: dict[str, bytes], data: st.DataObject) -> None:
    docx = data.draw(st.one_of(mutated(good[".docx"]), _WORD_XML.map(lambda x: _with_document_xml(good[".docx"], x))))
    read(work / "brief.docx", docx)


_FEED_PARTS = st.sampled_from(["<item>", "</item>", "<entry>", "</entry>", "<title>T</title>", "<guid>g</guid>",
                               "<pubDate>Mon, 03 Feb 2025 08:00:00 GMT</pubDate>", "<description>",
                               "</description>", "<![CDATA[<p>Port news.</p>]]>", "&lt;script&gt;", "<link>x</link>",
                               "<content type='html'>", "</content>", "Mombasa port expands.", "\u202e"])
_FEED = st.lists(_FEED_PARTS, max_size=60).map(
    lambda parts: ('<?xml version="1.0"?><rss version="2.0"><channel>' + "".join(parts) + "</channel></rss>").encode())


@FUZZ
@given(data=st.data())
def test_feeds(work: Path, good: dict[str, bytes], data: st.DataObject) -> None:
    feed = data.draw(st.one_of(_FEED, mutated(good[".rss"])))
    read(work / "news.rss", feed)
