"""Real files of every format the tests read, written by real writers: PDFs (reportlab, and pypdf's writer for
encrypted and blank ones), Word documents (python-docx) and RSS and Atom feeds."""

from __future__ import annotations

import datetime
import io
from pathlib import Path

REPORT_PAGES = [
    ["Kenya trade report", "", "The report reviews trade between Kenya and the United States in 2024.",
     "Tea remained the largest export by value."],
    ["Avocado exports", "", "Kenya shipped 120,000 tonnes of avocados to Europe in 2024.",
     "The agriculture ministry expects the growth to continue next year."],
    ["Outlook", "", "Officials expect a bilateral trade agreement to be signed before the end of 2025."],
]


def write_pdf(path: Path, pages: list[list[str]], title: str | None = "Kenya trade report 2024") -> Path:
    """A text PDF, one list of lines per page, with a title in its metadata."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4)
    if title:
        c.setTitle(title)
    for lines in pages:
        y = 800
        for line in lines:
            c.drawString(72, y, line)
            y -= 16
        c.showPage()
    c.save()
    return path


def write_blank_pdf(path: Path, pages: int = 2, password: str | None = None) -> Path:
    """A PDF of blank pages (no text layer, as a scan has none), encrypted with `password` when given."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(612, 792)
    if password:
        writer.encrypt(password)
    buf = io.BytesIO()
    writer.write(buf)
    path.write_bytes(buf.getvalue())
    return path


def write_encrypted_pdf(path: Path, text_pdf: Path, password: str = "s3cret") -> Path:
    """`text_pdf` encrypted with a user password."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(text_pdf))
    writer.encrypt(password)
    with path.open("wb") as f:
        writer.write(f)
    return path


def write_docx(path: Path) -> Path:
    """A policy brief: a title, two headed sections, an empty paragraph (counted) and a caption (dropped)."""
    import docx

    d = docx.Document()
    d.core_properties.title = "Water policy brief"
    d.core_properties.created = datetime.datetime(2025, 3, 4, 9, 30)
    d.add_heading("Water policy brief", 0)                                   # paragraph 1
    d.add_heading("Dams", 1)                                                 # 2
    d.add_paragraph("The government plans three new dams in the Rift Valley.")  # 3
    d.add_paragraph("")                                                      # 4
    d.add_paragraph("Each dam will cost about 20 billion shillings.")        # 5
    d.add_heading("Irrigation", 1)                                           # 6
    d.add_paragraph("Irrigation schemes in Galana will cover 10,000 acres by 2026.")  # 7
    d.save(str(path))
    return path


def rss(items: list[tuple[str, str, str, str]]) -> str:
    """An RSS 2.0 feed of (guid, title, date as RFC 822, HTML description) items, an element a line as feeds
    are written."""
    body = "".join(
        f"<item>\n<guid>{guid}</guid>\n<title>{title}</title>\n<link>https://news.example/{guid}</link>\n"
        f"<pubDate>{date}</pubDate>\n<description><![CDATA[{html}]]></description>\n</item>\n"
        for guid, title, date, html in items)
    return (f'<?xml version="1.0"?>\n<rss version="2.0">\n<channel>\n<title>Example News</title>\n'
            f"<link>https://news.example/</link>\n{body}</channel>\n</rss>\n")


def atom(entries: list[tuple[str, str, str, str]]) -> str:
    """An Atom feed of (id, title, updated ISO date, HTML content) entries, an element a line."""
    body = "".join(
        f'<entry>\n<id>{eid}</id>\n<title>{title}</title>\n<link href="https://wire.example/{eid}"/>\n'
        f'<updated>{date}</updated>\n<content type="html"><![CDATA[{html}]]></content>\n</entry>\n'
        for eid, title, date, html in entries)
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">\n'
            f"<title>Wire</title>\n<id>urn:wire</id>\n<updated>2025-02-01T00:00:00Z</updated>\n{body}</feed>\n")


NEWS_ITEMS = [
    ("port-1", "Mombasa port expands", "Mon, 03 Feb 2025 08:00:00 GMT",
     "<p>The Mombasa port opened a new container terminal on Monday.</p>"
     "<p>The terminal can handle 550,000 containers a year.</p>"),
    ("rail-2", "Railway talks resume", "Tue, 04 Feb 2025 08:00:00 GMT",
     "<p>Talks on extending the standard gauge railway to Malaba resumed in Nairobi.</p>"),
]
