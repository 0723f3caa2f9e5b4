"""PDF reports and press releases (pypdf): the text of each page, parsed like a plain-text article, so that
passages never cross a page and lines count from the top of their page."""

from __future__ import annotations

import io
import time
from datetime import datetime
from pathlib import Path

from qa.documents.files import MAX_READ_SECONDS, MAX_TEXT_CHARS
from qa.documents.model import Block, Document
from qa.documents.plain import parse_text
from qa.documents.quiet import quiet_parsers
from qa.errors import SourceError

MAX_PAGES = 2000  # a longer PDF is a book or a data dump, not an article, and would hold an ingest for minutes


def _metadata_date(value: object) -> str | None:
    return value.date().isoformat() if isinstance(value, datetime) else None


def load_pdf(path: Path, data: bytes, source: str) -> Document:
    """The pages of a PDF as one document: blocks carry their page; the title comes from the metadata when it
    has one, the date from the first page's text (a dateline, a byline) and else from the metadata.
    SourceError for an encrypted, damaged, scanned or over-long PDF."""
    texts, title, date = read_pdf(path, data)
    return _paged_document(source, texts, title, date)


def read_pdf(path: Path, data: bytes) -> tuple[list[str], str | None, str | None]:
    """The text of each page, and the title and date of the metadata. SourceError as for `load_pdf`."""
    import pypdf  # only needed for PDFs
    from pypdf.errors import LimitReachedError, PyPdfError

    quiet_parsers()
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):  # an owner password alone still lets it be read
            raise SourceError(f"{path}: encrypted PDF (password-protected), not read")
        pages = reader.pages
        if len(pages) > MAX_PAGES:
            raise SourceError(f"{path}: too many pages ({len(pages)}; PDFs of at most {MAX_PAGES} pages are read)")
        started = time.monotonic()
        texts = []
        size = 0
        for page in pages:
            texts.append(page.extract_text() or "")
            size += len(texts[-1])
            if time.monotonic() - started > MAX_READ_SECONDS:
                raise SourceError(f"{path}: text extraction took over {MAX_READ_SECONDS:.0f} s, not read")
            if size > MAX_TEXT_CHARS:
                raise SourceError(f"{path}: too much text (over {MAX_TEXT_CHARS:,} characters), not read")
        meta = reader.metadata
        title = (meta.title or "").strip() if meta is not None else ""
        date = _metadata_date(meta.creation_date) if meta is not None else None
    except SourceError:
        raise
    except LimitReachedError as exc:  # a stream that inflates past pypdf's limits, a page tree of millions
        raise SourceError(f"{path}: over a PDF reading limit ({' '.join(str(exc).split())[:100]})") from None
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError,
            NotImplementedError, RecursionError, AssertionError) as exc:
        raise SourceError(f"{path}: not a readable PDF ({type(exc).__name__})") from None
    if not any(t.strip() for t in texts):
        raise SourceError(f"{path}: no text layer (scanned?)")
    return texts, title or None, date


def _paged_document(source: str, pages: list[str], title: str | None, date: str | None) -> Document:
    """One document over the pages' text (pages joined by form feeds); each page parsed on its own."""
    doc = Document(source=source, text="\f".join(pages), title=title, date=date)
    offset = 0
    section: str | None = None  # a section runs on over a page break until the next heading
    for number, text in enumerate(pages, start=1):
        page = parse_text(source, text)
        if number == 1:
            doc.title = doc.title or page.title
            doc.date = page.date or doc.date  # a date the first page states wins over the file's creation time
        elif page.title:  # a later page's headline-like first line heads what follows it
            section = page.title
        for b in page.blocks:
            section = b.section or section
            doc.blocks.append(Block(b.text, b.line_start, b.line_end, b.char_start + offset, b.char_end + offset,
                                    section, page=number))
        offset += len(text) + 1
    return doc
