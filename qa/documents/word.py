"""Word documents (python-docx): headings become sections, paragraphs become blocks, and a block's "line" is
its paragraph's number in the document (empty paragraphs counted), since a .docx has no lines of its own."""

from __future__ import annotations

import io
import time
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

from qa.documents.dateline import stated_date
from qa.documents.files import MAX_READ_SECONDS, MAX_TEXT_CHARS, megabytes
from qa.documents.model import Block, Document
from qa.documents.plain import CAPTION, SUMMARY_BOX
from qa.errors import SourceError

# A .docx is a zip of XML parts that python-docx unpacks whole, so its size on disk says little: these bound
# what is unpacked and parsed. A long report has a few thousand paragraphs and unpacks to a few megabytes
# beside its pictures; a zip bomb unpacks a thousand times its size.
MAX_ZIP_ENTRIES = 10_000
MAX_UNPACKED_BYTES = 256 * 1024 * 1024
MAX_PARAGRAPHS = 50_000
MAX_XML_ELEMENTS = 2_000_000  # a paragraph is a dozen elements or so (runs, their properties, text)
_WORD_NS = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_PARAGRAPH = f"{_WORD_NS}p"


def _check_package(path: Path, data: bytes) -> None:
    """SourceError for a zip that would unpack to too much, before python-docx unpacks it.

    The sizes are those the zip declares (zipfile refuses to read past them, so a part that lies about its size
    fails to read). Its XML is then streamed once, element by element and thrown away as it goes, so that a
    small part holding millions of elements is refused before python-docx builds a tree of all of them."""
    from lxml import etree

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            entries = z.infolist()
            if len(entries) > MAX_ZIP_ENTRIES:
                raise SourceError(f"{path}: too many parts ({len(entries)}; Word files of at most "
                                  f"{MAX_ZIP_ENTRIES} are read)")
            unpacked = sum(e.file_size for e in entries)
            if unpacked > MAX_UNPACKED_BYTES:
                raise SourceError(f"{path}: unpacks to {megabytes(unpacked)} (Word files that unpack to at most "
                                  f"{megabytes(MAX_UNPACKED_BYTES)} are read)")
            elements = paragraphs = 0
            for entry in entries:
                if not entry.filename.endswith((".xml", ".rels")):
                    continue
                with z.open(entry) as part:
                    for _, element in etree.iterparse(part, events=("end",), resolve_entities=False,
                                                      no_network=True):
                        elements += 1
                        paragraphs += element.tag == _PARAGRAPH
                        element.clear(keep_tail=True)
                        if elements > MAX_XML_ELEMENTS:
                            raise SourceError(f"{path}: too much markup (over {MAX_XML_ELEMENTS:,} XML elements)")
                        if paragraphs > MAX_PARAGRAPHS:
                            raise SourceError(f"{path}: too many paragraphs (over {MAX_PARAGRAPHS:,}; Word files "
                                              "of fewer are read)")
    except SourceError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError, etree.LxmlError) as exc:
        raise SourceError(f"{path}: not a readable Word document ({_why(exc)})") from None


def _why(exc: Exception) -> str:
    """The exception's kind, and for an XML error what the parser said (it names the line and the problem)."""
    from lxml import etree

    said = " ".join(str(exc).split())[:120] if isinstance(exc, etree.LxmlError) else ""
    return f"{type(exc).__name__}{': ' + said if said else ''}"


def _paragraph_styles(word: Any) -> tuple[dict[str, str], str]:
    """Paragraph style names by style id, and the default one's name: looked up once, not per paragraph
    (python-docx's `Paragraph.style` searches the styles part every time, a millisecond a paragraph)."""
    from docx.enum.style import WD_STYLE_TYPE

    names = {}
    for style in word.styles:
        if getattr(style, "type", None) == WD_STYLE_TYPE.PARAGRAPH and style.style_id:
            names[style.style_id] = (style.name or "").lower()
    default = word.styles.default(WD_STYLE_TYPE.PARAGRAPH)
    return names, (getattr(default, "name", None) or "").lower()


def read_docx(path: Path, data: bytes) -> tuple[list[tuple[str, str]], str | None, datetime | None]:
    """Each paragraph's text and style name, and the title and creation time of the core properties.
    SourceError when the file is not a Word document, or is over one of the limits above."""
    import docx  # only needed for Word files
    from docx.opc.exceptions import PackageNotFoundError
    from lxml import etree

    _check_package(path, data)
    started = time.monotonic()
    try:
        word = docx.Document(io.BytesIO(data))
        body = word.element.body
        styles, default_style = _paragraph_styles(word)
        paragraphs = []
        size = 0
        for number, p in enumerate(body.iterchildren(_PARAGRAPH), start=1):
            # a paragraph's line breaks and tabs become spaces: each paragraph is one line of the document's text
            text = " ".join(p.text.split())
            paragraphs.append((text, styles.get(p.style, default_style) if p.style else default_style))
            size += len(text) + 1
            if size > MAX_TEXT_CHARS:
                raise SourceError(f"{path}: too much text (over {MAX_TEXT_CHARS:,} characters), not read")
            if number % 1000 == 0 and time.monotonic() - started > MAX_READ_SECONDS:
                raise SourceError(f"{path}: reading took over {MAX_READ_SECONDS:.0f} s, not read")
        props = word.core_properties
        title = (props.title or "").strip() or None
        created = props.created
    except SourceError:
        raise
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, AttributeError, OSError,
            etree.LxmlError) as exc:
        raise SourceError(f"{path}: not a readable Word document ({_why(exc)})") from None
    return paragraphs, title, created if isinstance(created, datetime) else None


def load_docx(path: Path, data: bytes, source: str) -> Document:
    """The paragraphs of a .docx as a document; title from its core properties, date from a dateline or byline
    near its top and else from its core properties. SourceError when the file is not a Word document."""
    paragraphs, title, created = read_docx(path, data)
    # a date the document states near its top wins over the file's creation time
    stated = stated_date([t for t, style in paragraphs if style != "title"])
    doc = Document(source=source, text="\n".join(t for t, _ in paragraphs), title=title,
                   date=stated or (created.date().isoformat() if created else None))
    section: str | None = None
    offset = 0
    for number, (text, style) in enumerate(paragraphs, start=1):
        start, offset = offset, offset + len(text) + 1
        if not text:
            continue
        if style == "title":
            doc.title = doc.title or text
        elif style.startswith("heading"):
            section = text
        elif style != "caption" and not CAPTION.match(text) and not SUMMARY_BOX.match(text):
            doc.blocks.append(Block(text, number, number, start, start + len(text), section))
    return doc
