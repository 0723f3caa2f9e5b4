"""The one place where text from articles, file names and users is made safe to print, and the one-line
`error:` and `warning:` messages every front end writes."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, TextIO

from rich.console import Console
from rich.text import Text


def _control_pictures(one_line: bool) -> dict[int, str]:
    table = {c: chr(0x2400 + c) for c in range(0x20) if c not in (0x09, 0x0A)}  # ESC shows as ␛, BEL as ␇
    table[0x7F] = "\u2421"  # ␡
    table.update({c: "\ufffd" for c in range(0x80, 0xA0)})  # C1 controls, CSI (0x9b) among them
    # bidi overrides and isolates reorder what follows them on screen ("Trojan source"): shown, not obeyed
    table.update({c: f"\\u{c:04x}" for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))})
    # a name that is not UTF-8 holds its raw bytes as lone surrogates, which no terminal can be sent
    table.update({c: f"\\x{c - 0xDC00:02x}" for c in range(0xDC80, 0xDD00)})
    table.update({c: "\ufffd" for c in (*range(0xD800, 0xDC80), *range(0xDD00, 0xE000))})
    if one_line:
        table[0x0A] = "\u2424"  # ␤
    return table


_SAFE = _control_pictures(one_line=False)
_SAFE_ONE_LINE = _control_pictures(one_line=True)


def terminal_safe(text: str, *, one_line: bool = False) -> str:
    """`text` with every control character but tab and newline swapped for a visible stand-in.

    Articles, file names and questions can hold escape sequences (colours, window titles, hyperlinks,
    cursor moves); shown as ␛, ␇, ␈ … they cannot reach the terminal as commands. With `one_line`,
    newlines are shown as ␤ too, so a file name or a question stays on its line. Rich markup needs no
    escaping as long as the result is printed inside a `Text`, which is how this module prints it.
    """
    return text.replace("\r\n", "\n").translate(_SAFE_ONE_LINE if one_line else _SAFE)


def safe_text(text: str, style: str = "", *, one_line: bool = False) -> Text:
    """A rich `Text` of untrusted `text`: no markup, emoji codes or control characters are interpreted."""
    return Text(terminal_safe(text, one_line=one_line), style=style)


_JSON_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def json_line(obj: Any) -> str:
    """`obj` as one line of JSON that is safe on a terminal: every control character is a \\u escape.

    json.dumps escapes C0 controls (ESC among them) itself; DEL and the C1 controls, which it leaves
    raw with ensure_ascii=False, can only occur inside strings, where a \\u escape means the same; so can
    lone surrogates (the raw bytes of a file name that is not UTF-8), which cannot be written as UTF-8.
    """
    text = json.dumps(obj, ensure_ascii=False)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def stderr_console() -> Console:
    return Console(stderr=True, highlight=False)


def message_line(label: str, style: str, message: str) -> Text:
    """`label message` on one line, the message printed as it is: no markup, no control characters."""
    return Text.assemble((label, style), " ", safe_text(message, one_line=True))


def print_error(message: str) -> None:
    """The one `error:` line on stderr that every user mistake gets."""
    stderr_console().print(message_line("error:", "red", message), soft_wrap=True)


def input_lines(stream: TextIO) -> Iterator[str]:
    """The lines of a piped input, each without its line end; bytes that are not UTF-8 become replacement
    characters, so one bad line is a question like any other instead of an error that ends the input."""
    raw = getattr(stream, "buffer", None)
    if raw is None:  # a text stream of its own (tests): already decoded
        yield from (line.rstrip("\n") for line in stream)
        return
    for line in raw:
        yield line.decode("utf-8", "replace").rstrip("\r\n")
