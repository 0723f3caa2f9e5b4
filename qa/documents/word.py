"""Word documents (python-docx): headings become sections, paragraphs become blocks, and a block's "line" is
its paragraph's number in the document (empty paragraphs counted), since a .docx has no lines of its own."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from pathlib import Path

from qa.documents.model import Block, Document
from qa.documents.plain import CAPTION
from qa.errors import SourceError


def _style(paragraph: object) -> str:
    style = getattr(paragraph, "style", None)
    return (getattr(style, "name", None) or "").lower()


def read_docx(path: Path, data: bytes) -> tuple[list[tuple[str, str]], str | None, datetime | None]:
    """Each paragraph's text and style name, and the title and creation time of the core properties.
    SourceError when the file is not a Word document."""
    import docx  # only needed for Word files
    from docx.opc.exceptions import PackageNotFoundError

    try:
        word = docx.Document(io.BytesIO(data))
        # a paragraph's line breaks and tabs become spaces: each paragraph is one line of the document's text
        paragraphs = [(" ".join(p.text.split()), _style(p)) for p in word.paragraphs]
        props = word.core_properties
        title = (props.title or "").strip() or None
        created = props.created
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, AttributeError, OSError) as exc:
        raise SourceError(f"{path}: not a readable Word document ({type(exc).__name__})") from None
    return paragraphs, title, created if isinstance(created, datetime) else None


def load_docx(path: Path, data: bytes, source: str) -> Document:
    """The paragraphs of a .docx as a document; title and date from its core properties. SourceError when
    the file is not a Word document."""
    paragraphs, title, created = read_docx(path, data)
    doc = Document(source=source, text="\n".join(t for t, _ in paragraphs), title=title,
                   date=created.date().isoformat() if created else None)
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
        elif style != "caption" and not CAPTION.match(text):
            doc.blocks.append(Block(text, number, number, start, start + len(text), section))
    return doc
