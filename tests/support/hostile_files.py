"""A hostile-file corpus, written by real writers and then broken the way careless or hostile users break files:
truncated and entity-laden Word XML, zip bombs, empty-paragraph floods, decompression-bomb and huge-page-tree
PDFs, file names that are not UTF-8 or carry bidi controls, and megabyte lines with no sentence break.

Each writer makes one file and returns its path; `write_hostile_corpus` puts one of each beside good files.
"""

from __future__ import annotations

import io
import os
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

from tests.support.article_files import REPORT_PAGES, write_docx, write_pdf

DOCUMENT_XML = "word/document.xml"
_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def _docx_bytes(tmp: Path) -> bytes:
    return write_docx(tmp).read_bytes()


def _replace_part(docx: bytes, part: str, data: bytes, *, level: int = 9) -> bytes:
    """`docx` with zip member `part` replaced by `data` (deflated at `level`)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            if item.filename != part:
                dst.writestr(item, src.read(item.filename))
        dst.writestr(zipfile.ZipInfo(part), data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=level)
    return out.getvalue()


def docx_truncated_xml(path: Path) -> Path:
    """A Word file whose `word/document.xml` is cut in half (lxml: XMLSyntaxError)."""
    good = _docx_bytes(path)
    with zipfile.ZipFile(io.BytesIO(good)) as z:
        xml = z.read(DOCUMENT_XML)
    path.write_bytes(_replace_part(good, DOCUMENT_XML, xml[: len(xml) // 2]))
    return path


def docx_billion_laughs(path: Path, levels: int = 10) -> Path:
    """A Word file whose body expands entities ten to the power `levels` times (the billion laughs)."""
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, levels)]
    xml = (f'<?xml version="1.0"?><!DOCTYPE w:document [{"".join(entities)}]>'
           f'<w:document {_W}><w:body><w:p><w:r><w:t>&lol{levels - 1};</w:t></w:r></w:p></w:body></w:document>')
    path.write_bytes(_replace_part(_docx_bytes(path), DOCUMENT_XML, xml.encode()))
    return path


def docx_paragraph_flood(path: Path, paragraphs: int = 2_000_000) -> Path:
    """A small Word file (tens of kilobytes) holding `paragraphs` empty paragraphs."""
    xml = f'<?xml version="1.0"?><w:document {_W}><w:body>'.encode() + b"<w:p/>" * paragraphs + \
        b"</w:body></w:document>"
    path.write_bytes(_replace_part(_docx_bytes(path), DOCUMENT_XML, xml))
    return path


def docx_zip_bomb(path: Path, megabytes: int = 512) -> Path:
    """A Word file of about a megabyte whose `word/document.xml` unpacks to `megabytes` MB (of blank space,
    which is valid XML), written in a stream so the bomb itself is never in memory."""
    good = _docx_bytes(path)
    # blank space deflates about a thousand to one at any level: the fastest will do
    with zipfile.ZipFile(io.BytesIO(good)) as src, \
            zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst:
        for item in src.infolist():
            if item.filename != DOCUMENT_XML:
                dst.writestr(item, src.read(item.filename))
        with dst.open(DOCUMENT_XML, "w", force_zip64=True) as fh:
            fh.write(f'<?xml version="1.0"?><w:document {_W}><w:body>'.encode())
            blank = b" " * (1 << 20)
            for _ in range(megabytes):
                fh.write(blank)
            fh.write(b"<w:p><w:r><w:t>Boom.</w:t></w:r></w:p></w:body></w:document>")
    return path


def _pdf(objects: list[bytes]) -> bytes:
    """A PDF of `objects` (numbered from 1; object 1 the catalog) with a correct cross-reference table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def pdf_decompression_bomb(path: Path, megabytes: int = 256) -> Path:
    """A one-page PDF whose content stream (a megabyte or so) inflates to `megabytes` MB."""
    deflate = zlib.compressobj(1)
    parts = [deflate.compress(b"BT /F1 12 Tf 72 720 Td (Boom) Tj ET\n")]
    blank = b" " * (1 << 20)
    for _ in range(megabytes):
        parts.append(deflate.compress(blank))
    parts.append(deflate.flush())
    stream = b"".join(parts)
    page = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>")
    path.write_bytes(_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", page,
                          b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream"]))
    return path


def pdf_huge_page_tree(path: Path, pages: int = 4_000_000, kids: int = 200_000) -> Path:
    """A PDF whose page tree claims `pages` pages, its one node listing the same page `kids` times."""
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"
    tree = b"<< /Type /Pages /Count %d /Kids [" % pages + b"3 0 R " * kids + b"] >>"
    path.write_bytes(_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", tree, page]))
    return path


def long_line(path: Path, megabytes: float = 4.5) -> Path:
    """A text article whose body is one line of `megabytes` MB with no sentence break (under the 5 MB limit)."""
    words = b"and the talks went on without a pause "
    with path.open("wb") as fh:
        fh.write(b"A line that never ends\n\n")
        fh.write(words * int(megabytes * (1 << 20) / len(words)))
        fh.write(b"\n")
    return path


GOOD_ARTICLE = ("Lake Turkana wind farm doubles its output\n\n"
                "The Lake Turkana wind farm produced 620 megawatts in March 2025, twice its output a year before.\n")
# a name as old archives have it: Latin-1 bytes, not UTF-8
NOT_UTF8_NAME = b"caf\xe9-news.txt"
BIDI_NAME = "invoice\u202etxt.exe.txt"  # U+202E shows it as "invoiceexe.txt" reversed on a terminal


def not_utf8_name(folder: Path, text: str = GOOD_ARTICLE) -> Path:
    """A good article under a file name that is not valid UTF-8 (`caf\\xe9-news.txt`)."""
    raw = os.path.join(os.fsencode(folder), NOT_UTF8_NAME)
    with open(raw, "wb") as fh:
        fh.write(text.encode())
    return Path(os.fsdecode(raw))


# every kind, by the name its file gets: (file name, writer)
HOSTILE: dict[str, tuple[str, Callable[[Path], Path]]] = {
    "truncated Word XML": ("truncated.docx", docx_truncated_xml),
    "billion laughs in Word XML": ("laughs.docx", docx_billion_laughs),
    "empty-paragraph flood": ("flood.docx", docx_paragraph_flood),
    "zip bomb": ("bomb.docx", docx_zip_bomb),
    "PDF decompression bomb": ("bomb.pdf", pdf_decompression_bomb),
    "PDF huge page tree": ("pages.pdf", pdf_huge_page_tree),
}


def write_hostile_corpus(folder: Path, kinds: list[str] | None = None) -> dict[str, Path]:
    """One file of each hostile kind in `folder` (all of them unless `kinds` names some), by kind."""
    folder.mkdir(parents=True, exist_ok=True)
    made = {}
    for kind in kinds or list(HOSTILE):
        name, write = HOSTILE[kind]
        made[kind] = write(folder / name)
    return made


def write_good_pdf(path: Path) -> Path:
    """A good three-page report, to sit beside the bad ones."""
    return write_pdf(path, REPORT_PAGES)
