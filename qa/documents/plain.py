"""Plain-text and Markdown articles in the news format of the seeds: date line, headline, sections,
paragraphs; captions, summary boxes and "Read also" link lists dropped."""

from __future__ import annotations

import re

from qa.documents.dateline import stated_date
from qa.documents.model import Block, Document, word_count
from qa.text.lines import split_lines

_DATE_LINE = re.compile(r"^\s*date\s+(\d{4}-\d{2}-\d{2})\b[ \t]*")
# The label of a summary box: the box (the list under it, or the one paragraph under it) repeats the article in
# short, and is dropped with it, so that an answer quotes the article and not its summary.
MAX_LABEL_WORDS = 10  # "In a hurry? Here's a quick summary…"; a longer line is a sentence that starts so
SUMMARY_BOX = re.compile(r"^(in a hurry\b|editor'?s review\b|editor’s review\b|key takeaways\b|quick summary\b)",
                         re.IGNORECASE)
# Lines that label a picture or an advertisement rather than say anything.
CAPTION = re.compile(r"^(file (image|photo|picture)|photo|image|picture|video|watch|advertisement|sponsored)\b",
                     re.IGNORECASE)
# Written so that no pattern backtracks over a long line: each stays linear in the line's length.
_LINK_LIST = re.compile(r"^(read also|read more|related( articles| stories)?|see also|also read)\s*(?::\s*)?$", re.I)
_SENTENCE_END = re.compile(r"[.!?…:;\"”’)]\s*$")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+")
_MD_INLINE = re.compile(r"!?\[([^\][]*)\]\([^()]*\)|[*_`]{1,3}")


def _is_heading(text: str) -> bool:
    """A short line with no closing punctuation that starts with a capital: a title or section heading."""
    return (
        0 < word_count(text) <= 12
        and not _SENTENCE_END.search(text)
        and (text[0].isupper() or text[0].isdigit())
    )


def _hard_wrapped(line: str) -> bool:
    """A line as long as a hard-wrapped paragraph's lines usually are (it was cut at a margin)."""
    return 50 <= len(line) <= 80


def _continues(previous: str, previous_line: str, line: str) -> bool:
    """Whether `line` carries on the sentence that the previous line left open."""
    if _SENTENCE_END.search(previous):
        return False
    return line[:1].islower() or previous.rstrip()[-1:] in ",;–-" or _hard_wrapped(previous_line)


def _opens_wrapped_paragraph(line: str, next_line: str) -> bool:
    """A line with no closing punctuation whose sentence runs on into the next line: text, not a heading."""
    next_line = next_line.strip()
    if not next_line or _SENTENCE_END.search(line):
        return False
    return next_line[:1].islower() or _hard_wrapped(line)


def _is_headline(text: str, blocks_before: list[Block]) -> bool:
    """A headline opens the article: nothing before it but, at most, one short kicker line."""
    if blocks_before[1:] or (blocks_before and word_count(blocks_before[0].text) > 12):
        return False
    return 0 < word_count(text) <= 25 and not _SENTENCE_END.search(text)


def _box_after_blank(box: str | None) -> str | None:
    """A summary box after a blank line: still open right after its label, ended after its list or paragraph."""
    return box if box == "label" else None


def _box_after_line(box: str | None, content: str, is_bullet: bool, previous_line: str) -> str | None:
    """Whether the line `content` is part of a summary box (and then what of it), or None when it is not: a box
    opens at its label and holds the list right under it, or else the one paragraph under it."""
    if SUMMARY_BOX.match(content) and word_count(content) <= MAX_LABEL_WORDS:
        return "label"
    if box == "label":
        return "list" if is_bullet else "paragraph"
    if box == "list" and is_bullet:
        return "list"
    if box == "paragraph" and not is_bullet and _continues(previous_line, previous_line, content):
        return "paragraph"  # the paragraph runs on over a hard-wrapped line
    return None


def _unmark(content: str, where: list[int]) -> tuple[str, list[int], list[int]]:
    """Markdown `content`, whose character k lies at `where[k]` in the document, without its heading marks
    and inline markup, with the source start and end of each remaining character."""
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []

    def keep(a: int, b: int, open_at: int | None = None, close_at: int | None = None) -> None:
        for k in range(a, b):
            chars.append(content[k])
            starts.append(where[open_at if k == a and open_at is not None else k])
            ends.append(where[close_at - 1] + 1 if k == b - 1 and close_at is not None else where[k] + 1)

    heading = _MD_HEADING.match(content)
    i = heading.end() if heading else 0
    for m in _MD_INLINE.finditer(content, i):
        keep(i, m.start())
        if m.group(1):  # a link's or image's text stands for the whole construct
            keep(m.start(1), m.end(1), open_at=m.start(), close_at=m.end())
        i = m.end()
    keep(i, len(content))
    text = "".join(chars)
    left, right = len(text) - len(text.lstrip()), len(text.rstrip())
    return text[left:right], starts[left:right], ends[left:right]


def _unmark_blocks(blocks: list[Block], raw: dict[int, tuple[str, list[int]]]) -> list[Block]:
    """Markdown blocks with their text unmarked as whole paragraphs (inline markup may run over a line
    break), each character mapped back to its source."""
    out = []
    for i, b in enumerate(blocks):
        text, starts, ends = _unmark(*raw[i])
        if text:
            out.append(Block(text, b.line_start, b.line_end, starts[0], ends[-1], b.section, starts=tuple(starts),
                             ends=tuple(ends)))
    return out


def parse_text(source: str, text: str, *, markdown: bool = False) -> Document:
    """Parse a plain-text (or Markdown) article in the news format the seeds use.

    An optional first line `date YYYY-MM-DD ...` gives the date (the rest of that line is text); without it,
    the date a dateline or byline near the top states (`qa.documents.dateline`).
    The first heading-like line before the body is the title; later ones are section headings.
    Captions, summary-box labels and "Read also" link lists are dropped.
    """
    doc = Document(source=source, text=text)
    lines = split_lines(text)
    offset = 0
    section: str | None = None
    in_link_list = False
    box: str | None = None  # inside a summary box: "label", "list" or "paragraph" (what was read of it last)
    in_front_matter = False
    previous_line = ""  # the last line of article text, as read
    md_source: dict[int, tuple[str, list[int]]] = {}  # Markdown: each block's source text and offsets, markup kept
    for number, raw in enumerate(lines, start=1):
        start = offset
        offset += len(raw)
        line = raw.rstrip("\r\n")
        lead = len(line) - len(line.lstrip())
        content = line.strip()
        if number == 1 and markdown and content == "---":
            in_front_matter = True
            continue
        if in_front_matter:
            if content == "---":
                in_front_matter = False
            elif (m := re.match(r"(title|date)\s*:\s*[\"']?(.*?)[\"']?\s*$", content, re.I)):
                key, value = m.group(1).lower(), m.group(2)
                if key == "title":
                    doc.title = value or doc.title
                elif re.match(r"\d{4}-\d{2}-\d{2}", value):
                    doc.date = value[:10]
            continue
        if number == 1 and (m := _DATE_LINE.match(line)):
            doc.date = m.group(1)
            lead = m.end()
            content = line[lead:].strip()
        if not content:
            in_link_list = False
            box = _box_after_blank(box)
            continue
        is_md_heading = markdown and bool(_MD_HEADING.match(content))
        raw_content, raw_where = content, []
        if markdown:
            first = start + lead + (len(line[lead:]) - len(line[lead:].lstrip()))
            raw_where = list(range(first, first + len(content)))
            if (raw_bullet := _BULLET.match(raw_content)) and not is_md_heading:
                raw_content, raw_where = raw_content[raw_bullet.end():], raw_where[raw_bullet.end():]
            content = _unmark(content, list(range(len(content))))[0]
            if not content:
                continue
        bullet = _BULLET.match(content)
        if bullet:
            lead += bullet.end()
            content = content[bullet.end():]
        box = _box_after_line(box, content, bullet is not None, previous_line)
        if box is not None:
            previous_line = content
            continue
        if _LINK_LIST.match(content):
            in_link_list = True
            continue
        if in_link_list and _is_heading(content):
            continue  # a linked headline under "Read also"
        in_link_list = False
        if CAPTION.match(content):
            continue
        next_line = lines[number] if number < len(lines) else ""
        running_on = not is_md_heading and _opens_wrapped_paragraph(content, next_line)
        if doc.title is None and not running_on and _is_headline(content, doc.blocks):
            doc.title = content
            doc.blocks.clear()  # a kicker line above the headline is not article text
            md_source.clear()
            continue
        if is_md_heading or (not running_on and _is_heading(content)):
            section = content
            continue
        char_start = start + lead + (len(line[lead:]) - len(line[lead:].lstrip()))
        char_end = start + len(line.rstrip())  # the source line's end, also where markup was removed
        prev = doc.blocks[-1] if doc.blocks else None
        list_item = markdown and bullet is not None  # a Markdown list item starts a paragraph of its own
        if (prev is not None and prev.line_end == number - 1 and not list_item
                and _continues(prev.text, previous_line, content)):
            # a paragraph wrapped over several lines: one block, so sentences are not cut
            text = doc.text[prev.char_start:char_end] if not markdown else prev.text + " " + content
            doc.blocks[-1] = Block(text, prev.line_start, number, prev.char_start, char_end, prev.section)
            if markdown:  # the space that joins the lines stands for the line break between them
                joined, where = md_source[len(doc.blocks) - 1]
                md_source[len(doc.blocks) - 1] = (joined + " " + raw_content, [*where, where[-1] + 1, *raw_where])
        else:
            doc.blocks.append(Block(content, number, number, char_start, char_end, section))
            if markdown:
                md_source[len(doc.blocks) - 1] = (raw_content, raw_where)
        previous_line = content
    if markdown:
        doc.blocks = _unmark_blocks(doc.blocks, md_source)
    if doc.date is None:
        doc.date = stated_date(lines)
    return doc
