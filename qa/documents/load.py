"""Reading one article file into a document, whatever its format."""

from __future__ import annotations

from pathlib import Path

from qa.documents.files import decode, read_bytes
from qa.documents.model import Document
from qa.documents.plain import parse_text
from qa.documents.web import html_to_text, locate_lines
from qa.errors import SourceError


def load_file(path: Path) -> Document:
    """Read one article file. Raises SourceError, with a one-line reason, for a file that cannot be
    an article: unreadable, gone, not a regular file, too large, binary, empty or without article text.
    Text that is not UTF-8 is read with a fallback encoding and a line in `Document.warnings`.
    """
    text, warning = decode(read_bytes(path), str(path))
    if not text.strip():
        raise SourceError(f"{path}: empty file")
    suffix = path.suffix.lower()
    source = str(path.resolve())
    if suffix in (".html", ".htm"):
        body, title, date = html_to_text(text)
        doc = parse_text(source, body)
        doc.title = title or doc.title
        doc.date = date or doc.date
        doc = locate_lines(text, doc)
        doc.text = text  # hash the file as it is on disk
    else:
        doc = parse_text(source, text, markdown=suffix in (".md", ".markdown"))
    if not doc.blocks:
        raise SourceError(f"{path}: no article text found")
    if warning:
        doc.warnings.append(warning)
    return doc
