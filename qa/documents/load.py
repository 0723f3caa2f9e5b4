"""Reading one article file into documents, whatever its format: text, Markdown, web page, PDF, Word, feed."""

from __future__ import annotations

import hashlib
from pathlib import Path

from qa.documents.feeds import load_feed
from qa.documents.files import FEED_SUFFIXES, HTML_SUFFIXES, MARKDOWN_SUFFIXES, decode, read_bytes
from qa.documents.isolation import one_file
from qa.documents.model import Document
from qa.documents.pdf import load_pdf
from qa.documents.plain import parse_text
from qa.documents.web import html_document
from qa.documents.word import load_docx
from qa.errors import SourceError


def _text_document(path: Path, data: bytes, source: str) -> Document:
    text, warning = decode(data, str(path))
    if not text.strip():
        raise SourceError(f"{path}: empty file")
    suffix = path.suffix.lower()
    if suffix in HTML_SUFFIXES:
        doc = html_document(text, source)
    else:
        doc = parse_text(source, text, markdown=suffix in MARKDOWN_SUFFIXES)
    if warning:
        doc.warnings.append(warning)
    return doc


def load_path(path: Path) -> tuple[list[Document], list[str]]:
    """The documents in one article file (several for a feed, one otherwise) and a problem line for each part
    that was left out. Raises SourceError, with a one-line reason, for a file that cannot be read at all:
    unreadable, gone, not a regular file, too large, binary, damaged, encrypted, empty or without article text.
    """
    data = read_bytes(path)
    with one_file(path):
        return _parse(path, data)


def _parse(path: Path, data: bytes) -> tuple[list[Document], list[str]]:
    suffix = path.suffix.lower()
    source = str(path.resolve())
    file_hash = hashlib.sha256(data).hexdigest()
    if suffix in FEED_SUFFIXES:
        docs, problems = load_feed(path, data, source, file_hash)
        if not docs:
            raise SourceError(problems[0] if len(problems) == 1 else f"{path}: no entry of the feed has text")
        return docs, problems
    if not data.strip():
        raise SourceError(f"{path}: empty file")
    if suffix == ".pdf":
        doc = load_pdf(path, data, source)
    elif suffix == ".docx":
        doc = load_docx(path, data, source)
    else:
        doc = _text_document(path, data, source)
    if not doc.blocks:
        raise SourceError(f"{path}: no article text found")
    doc.file_hash = file_hash
    return [doc], []


def load_file(path: Path) -> Document:
    """The one document in an article file that is not a feed (see `load_path`)."""
    docs, _ = load_path(path)
    if len(docs) != 1:
        raise SourceError(f"{path}: a feed holds {len(docs)} documents, not one")
    return docs[0]
