"""Finding article files under folders and reading their bytes safely: no pipes, no huge files, no binaries,
no symlink loops; text that is not UTF-8 read with a fallback encoding."""

from __future__ import annotations

import errno
import os
import re
import stat
from pathlib import Path

from qa.errors import SourceError

MARKDOWN_SUFFIXES = (".md", ".markdown")
HTML_SUFFIXES = (".html", ".htm", ".xhtml")
FEED_SUFFIXES = (".rss", ".atom", ".xml")
BINARY_SUFFIXES = (".pdf", ".docx")  # formats whose bytes are parsed by their own library, not decoded as text
SUFFIXES = (".txt", *MARKDOWN_SUFFIXES, *HTML_SUFFIXES, *BINARY_SUFFIXES, *FEED_SUFFIXES)
FORMATS = ".txt, .md, .html, .pdf, .docx, .rss or .atom"  # as messages name them

# The longest news articles are a few hundred kilobytes of text and a bloated article page a few
# megabytes of HTML; past this size a file is not an article, and reading it would only cost memory
# and minutes (HTML extraction grows faster than the page), so it is skipped unread.
MAX_FILE_BYTES = 5 * 1024 * 1024
# A PDF or Word file carries fonts and pictures besides its text, so it may be ten times larger.
MAX_BINARY_BYTES = 50 * 1024 * 1024
# Reading one file (PDF text extraction, a Word file's paragraphs) stops past this, so that no layout or
# markup that makes a parser crawl can hold an ingest; it is checked between pages and paragraphs.
MAX_READ_SECONDS = 60.0
# The text read from one PDF or Word file: twice what the largest text file gives; more is a book or a dump.
MAX_TEXT_CHARS = 10_000_000
# Control characters other than whitespace and ESC: a text file has almost none, a binary file many.
_BINARY_CHARS = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f-\x9f]")
BINARY_SHARE = 0.05

# What a file name may hold that no view should show as is: the raw bytes of a name that is not UTF-8 (which
# Python holds as lone surrogates) and the bidi controls that reorder how a name reads (U+202E shows
# "report\u202etxt.exe" as "reportexe.txt").
_UNSHOWABLE = re.compile("[\ud800-\udfff\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def shown_name(name: str) -> str:
    """A file name (or any source) as views show it: a byte that is not UTF-8 as `\\xe9`, a bidi control as
    `\\u202e`; every other character as it is. The name itself is kept as the file system gave it."""
    def escape(m: re.Match[str]) -> str:
        c = ord(m.group())
        return f"\\x{c - 0xDC00:02x}" if 0xDC80 <= c <= 0xDCFF else f"\\u{c:04x}"
    return _UNSHOWABLE.sub(escape, name)


def size_limit(path: Path) -> int:
    """The largest file of this format that is read as an article."""
    return MAX_BINARY_BYTES if path.suffix.lower() in BINARY_SUFFIXES else MAX_FILE_BYTES


def read_bytes(path: Path) -> bytes:
    """The bytes of a regular file of at most `size_limit(path)`, or SourceError saying why not.

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
        limit = size_limit(path)
        if info.st_size > limit:
            raise SourceError(f"{path}: too large ({megabytes(info.st_size)}; files over "
                              f"{megabytes(limit)} are not read as articles)")
        try:
            data = f.read(limit + 1)
        except OSError as exc:
            raise SourceError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if len(data) > limit:  # it grew while being read
        raise SourceError(f"{path}: too large (over {megabytes(limit)})")
    return data


def megabytes(n: int) -> str:
    """`n` bytes as messages give a size: `5 MB`, `1.5 MB`."""
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


def unsupported(path: Path) -> str:
    """The line for a file of a format that is not read."""
    return f"{path}: not a supported format ({path.suffix.lower() or 'no extension'})"


def _link_problem(path: Path) -> str:
    """Why a symlink leads nowhere: a loop, or a target that does not exist."""
    try:
        path.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return f"{path}: symlink loop"
        return f"{path}: broken symlink (its target does not exist)"
    return f"{path}: not a regular file"


def is_index_folder(folder: Path) -> bool:
    """A local index (its `CURRENT` pointer and manifests) kept inside an article folder: not articles."""
    return (folder / "CURRENT").is_file() and any(folder.glob("manifest-*.json"))


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
                if is_index_folder(path):
                    continue
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
            elif is_file:
                problems.append(unsupported(path))
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
                problems.append(f"{p}: no {FORMATS} files in this folder")
            files.extend(found)
        elif p.suffix.lower() not in SUFFIXES:
            problems.append(unsupported(p))
        else:
            files.append(p)
    unique = list(dict.fromkeys(f.resolve() for f in files))
    return unique, problems
