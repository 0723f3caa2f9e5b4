"""Load article files into documents: clean text blocks with their lines, offsets, title, date and section."""

from __future__ import annotations

import errno
import hashlib
import html
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from qa.errors import SourceError

SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm")

# The longest news articles are a few hundred kilobytes of text and a bloated article page a few
# megabytes of HTML; past this size a file is not an article, and reading it would only cost memory
# and minutes (HTML extraction grows faster than the page), so it is skipped unread.
MAX_FILE_BYTES = 5 * 1024 * 1024
# Control characters other than whitespace and ESC: a text file has almost none, a binary file many.
_BINARY_CHARS = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f-\x9f]")
BINARY_SHARE = 0.05

_DATE_LINE = re.compile(r"^\s*date\s+(\d{4}-\d{2}-\d{2})\b[ \t]*")
# Lines that label a box or a picture rather than say anything.
_CAPTION = re.compile(
    r"^(file (image|photo|picture)|photo|image|picture|video|watch|advertisement|sponsored|"
    r"in a hurry\??|editor'?s review|editor’s review|key takeaways|quick summary)\b",
    re.IGNORECASE,
)
# Written so that no pattern backtracks over a long line: each stays linear in the line's length.
_LINK_LIST = re.compile(r"^(read also|read more|related( articles| stories)?|see also|also read)\s*(?::\s*)?$", re.I)
_SENTENCE_END = re.compile(r"[.!?…:;\"”’)]\s*$")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+")
_MD_INLINE = re.compile(r"!?\[([^\][]*)\]\([^()]*\)|[*_`]{1,3}")


@dataclass(frozen=True)
class Block:
    """A paragraph of article text: one source line (or a run of lines) that can hold an answer."""

    text: str
    line_start: int  # 1-based, inclusive
    line_end: int
    char_start: int  # offsets into the document's text
    char_end: int
    section: str | None


@dataclass
class Document:
    """A loaded article: where it came from, its metadata and its answer-bearing blocks."""

    source: str  # stable identity: the absolute path, or a name for in-memory documents
    text: str
    title: str | None = None
    date: str | None = None
    blocks: list[Block] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # one line each: read, but not quite as written

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def word_count(text: str) -> int:
    return len(text.split())


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


def parse_text(source: str, text: str, *, markdown: bool = False) -> Document:
    """Parse a plain-text (or Markdown) article in the news format the seeds use.

    An optional first line `date YYYY-MM-DD ...` gives the date (the rest of that line is text).
    The first heading-like line before the body is the title; later ones are section headings.
    Captions, summary-box labels and "Read also" link lists are dropped.
    """
    doc = Document(source=source, text=text)
    lines = text.splitlines(keepends=True)
    offset = 0
    section: str | None = None
    in_link_list = False
    in_front_matter = False
    previous_line = ""  # the last line of article text, as read
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
            continue
        is_md_heading = markdown and bool(_MD_HEADING.match(content))
        if markdown:
            content = _MD_INLINE.sub(lambda mm: mm.group(1) or "", _MD_HEADING.sub("", content)).strip()
        bullet = _BULLET.match(content)
        if bullet:
            lead += bullet.end()
            content = content[bullet.end():]
        if _LINK_LIST.match(content):
            in_link_list = True
            continue
        if in_link_list and _is_heading(content):
            continue  # a linked headline under "Read also"
        in_link_list = False
        if _CAPTION.match(content):
            continue
        next_line = lines[number] if number < len(lines) else ""
        running_on = not is_md_heading and _opens_wrapped_paragraph(content, next_line)
        if doc.title is None and not running_on and _is_headline(content, doc.blocks):
            doc.title = content
            doc.blocks.clear()  # a kicker line above the headline is not article text
            continue
        if is_md_heading or (not running_on and _is_heading(content)):
            section = content
            continue
        char_start = start + lead + (len(line[lead:]) - len(line[lead:].lstrip()))
        char_end = start + len(line.rstrip())  # the source line's end, also where markup was removed
        prev = doc.blocks[-1] if doc.blocks else None
        if prev is not None and prev.line_end == number - 1 and _continues(prev.text, previous_line, content):
            # a paragraph wrapped over several lines: one block, so sentences are not cut
            text = doc.text[prev.char_start:char_end] if not markdown else prev.text + " " + content
            doc.blocks[-1] = Block(text, prev.line_start, number, prev.char_start, char_end, prev.section)
        else:
            doc.blocks.append(Block(content, number, number, char_start, char_end, section))
        previous_line = content
    return doc


_RAW_TEXT_OPEN = re.compile(r"<(script|style)\b", re.I)
_RAW_TEXT_CLOSE = {"script": re.compile(r"</script\s*>", re.I), "style": re.compile(r"</style\s*>", re.I)}
_TAG = re.compile(r"<[^<>]*>")


def _visible_text(raw: str) -> str:
    """The text of an HTML page outside its tags, scripts and styles, a line per run of text.

    Written as one forward scan (not one regular expression) so that a page full of unclosed
    `<script` or `<` takes linear time.
    """
    parts: list[str] = []
    pos = 0
    while (m := _RAW_TEXT_OPEN.search(raw, pos)) is not None:
        parts.append(raw[pos:m.start()])
        close = _RAW_TEXT_CLOSE[m.group(1).lower()].search(raw, m.end())
        if close is None:  # an unclosed script runs to the end of the page
            pos = len(raw)
            break
        pos = close.end()
    parts.append(raw[pos:])
    text = html.unescape(_TAG.sub("\n", "\n".join(parts)))
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


def _html_to_text(raw: str) -> tuple[str, str | None, str | None]:
    """Main text, title and date of an HTML page (trafilatura when it finds an article)."""
    import trafilatura  # heavy import, only for HTML

    text = trafilatura.extract(raw, include_comments=False, include_tables=False, favor_recall=True) or ""
    meta = trafilatura.extract_metadata(raw)
    title = meta.title if meta is not None else None
    date = meta.date if meta is not None and meta.date else None
    if not text.strip():  # not an article page: fall back to the visible text
        text = _visible_text(raw)
    return text, title, date


_NEAR = 64 * 1024  # how far past the last located block the next one is looked for, after a few misses


def _locate_lines(raw: str, doc: Document) -> Document:
    """Point each block of an HTML document at the source line where its text starts, when it can be found."""
    import bisect

    visible = html.unescape(raw)
    line_starts = [0] + [m.end() for m in re.finditer("\n", visible)]
    pos = 0
    misses = 0
    blocks = []
    for b in doc.blocks:
        probe = b.text[:40]
        # Searching the whole rest of the page for every block that is not there would be quadratic
        # on a big page; after a few misses only the text near the last block found is searched.
        found = visible.find(probe, pos, len(visible) if misses < 3 else pos + _NEAR)
        if found >= 0:
            pos = found
            line = bisect.bisect_right(line_starts, found)
            blocks.append(Block(b.text, line, line, b.char_start, b.char_end, b.section))
        else:
            misses += 1
            blocks.append(b)
    doc.blocks = blocks
    return doc


def _read_bytes(path: Path) -> bytes:
    """The bytes of a regular file of at most MAX_FILE_BYTES, or SourceError saying why not.

    The file is opened without blocking and checked before anything is read, so a named pipe or a
    device with an article's name cannot hang the ingest, nor a huge file fill the memory.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise SourceError(f"{path}: gone before it could be read (deleted or moved during the ingest)") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise SourceError(f"{path}: symlink loop") from None
        raise SourceError(f"{path}: cannot read ({exc.strerror or exc})") from None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise SourceError(f"{path}: not a regular file")
        if info.st_size > MAX_FILE_BYTES:
            raise SourceError(f"{path}: too large ({_megabytes(info.st_size)}; files over "
                              f"{_megabytes(MAX_FILE_BYTES)} are not read as articles)")
        try:
            data = f.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise SourceError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if len(data) > MAX_FILE_BYTES:  # it grew while being read
        raise SourceError(f"{path}: too large (over {_megabytes(MAX_FILE_BYTES)})")
    return data


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB" if n % (1024 * 1024) else f"{n // (1024 * 1024)} MB"


def decode(data: bytes, name: str) -> tuple[str, str | None]:
    """The text of a file's bytes and a one-line warning when it was not UTF-8; SourceError for binary data.

    UTF-8 (with or without a byte-order mark) is read as is; anything else is read as Windows-1252,
    the usual encoding of news text that is not UTF-8, or as Latin-1 (which decodes any byte) when
    the file has bytes Windows-1252 leaves undefined.
    """
    if b"\x00" in data:
        raise SourceError(f"{name}: binary file, not text")
    warning = None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        try:
            text, label = data.decode("cp1252"), "Windows-1252"
        except UnicodeDecodeError:  # bytes Windows-1252 leaves undefined
            text, label = data.decode("latin-1"), "Latin-1"
        warning = f"{name}: not UTF-8 (bad byte at offset {exc.start}); read as {label}"
    if text and len(_BINARY_CHARS.findall(text)) > BINARY_SHARE * len(text):
        raise SourceError(f"{name}: binary file, not text")
    return text, warning


def load_file(path: Path) -> Document:
    """Read one article file. Raises SourceError, with a one-line reason, for a file that cannot be
    an article: unreadable, gone, not a regular file, too large, binary, empty or without article text.
    Text that is not UTF-8 is read with a fallback encoding and a line in `Document.warnings`.
    """
    text, warning = decode(_read_bytes(path), str(path))
    if not text.strip():
        raise SourceError(f"{path}: empty file")
    suffix = path.suffix.lower()
    source = str(path.resolve())
    if suffix in (".html", ".htm"):
        body, title, date = _html_to_text(text)
        doc = parse_text(source, body)
        doc.title = title or doc.title
        doc.date = date or doc.date
        doc = _locate_lines(text, doc)
        doc.text = text  # hash the file as it is on disk
    else:
        doc = parse_text(source, text, markdown=suffix in (".md", ".markdown"))
    if not doc.blocks:
        raise SourceError(f"{path}: no article text found")
    if warning:
        doc.warnings.append(warning)
    return doc


def _link_problem(path: Path) -> str:
    """Why a symlink leads nowhere: a loop, or a target that does not exist."""
    try:
        path.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return f"{path}: symlink loop"
        return f"{path}: broken symlink (its target does not exist)"
    return f"{path}: not a regular file"


def _walk(root: Path, problems: list[str]) -> list[Path]:
    """Article files under `root`, following symlinked folders but never into a loop.

    Hidden files and folders are left out. A folder reached again through a symlink to one of its
    parents is a loop: it is reported and not entered; one reached twice otherwise is read once.
    """
    found: list[Path] = []
    top = root.stat()
    seen = {(top.st_dev, top.st_ino)}
    stack: list[tuple[Path, frozenset[tuple[int, int]]]] = [(root, frozenset(seen))]
    while stack:
        folder, parents = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            problems.append(f"{folder}: cannot list this folder ({exc.strerror or exc})")
            continue
        for entry in entries:
            path = Path(entry.path)
            if entry.name.startswith("."):
                continue
            try:
                is_dir = entry.is_dir()
                is_file = not is_dir and entry.is_file()
            except OSError:
                is_dir = is_file = False
            if is_dir:
                try:
                    info = entry.stat()
                except OSError as exc:
                    problems.append(f"{path}: cannot read this folder ({exc.strerror or exc})")
                    continue
                key = (info.st_dev, info.st_ino)
                if key in parents:
                    problems.append(f"{path}: symlink loop (leads back to {os.path.realpath(path)}), not followed")
                elif key not in seen:
                    seen.add(key)
                    stack.append((path, parents | {key}))
            elif path.suffix.lower() in SUFFIXES:
                if is_file:
                    found.append(path)
                elif entry.is_symlink():
                    problems.append(_link_problem(path))
                else:
                    problems.append(f"{path}: not a regular file")
    return found


def find_files(paths: list[Path]) -> tuple[list[Path], list[str]]:
    """Expand files and folders (recursively) into article files; also return one problem line per bad path."""
    files: list[Path] = []
    problems: list[str] = []
    for p in paths:
        if p.is_symlink() and not p.exists():
            problems.append(_link_problem(p))
        elif not p.exists():
            problems.append(f"{p}: no such file or folder")
        elif p.is_dir():
            folder_problems: list[str] = []
            found = sorted(_walk(p, folder_problems))
            problems.extend(folder_problems)
            if not found:
                problems.append(f"{p}: no .txt, .md or .html files in this folder")
            files.extend(found)
        elif p.suffix.lower() not in SUFFIXES:
            problems.append(f"{p}: unsupported file type (use .txt, .md or .html)")
        else:
            files.append(p)
    unique = list(dict.fromkeys(f.resolve() for f in files))
    return unique, problems
