"""Rich rendering of answers for the terminal (the command line and the chat), and the one place
where text from articles, file names and users is made safe to print."""

from __future__ import annotations

import json
import re
from typing import Any

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.text import Text

from qa.answering.answer import Answer, Citation
from qa.text.cleaning import clean_question  # noqa: F401  (the adapters' one import for it)


def _control_pictures(one_line: bool) -> dict[int, str]:
    table = {c: chr(0x2400 + c) for c in range(0x20) if c not in (0x09, 0x0A)}  # ESC shows as ␛, BEL as ␇
    table[0x7F] = "\u2421"  # ␡
    table.update({c: "\ufffd" for c in range(0x80, 0xA0)})  # C1 controls, CSI (0x9b) among them
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


_JSON_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029]")


def json_line(obj: Any) -> str:
    """`obj` as one line of JSON that is safe on a terminal: every control character is a \\u escape.

    json.dumps escapes C0 controls (ESC among them) itself; DEL and the C1 controls, which it leaves
    raw with ensure_ascii=False, can only occur inside strings, where a \\u escape means the same.
    """
    text = json.dumps(obj, ensure_ascii=False)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


FOLD = 320  # characters of a cited passage shown before it is folded


def _where(c: Citation) -> str:
    lines = f"{c.line_start}" if c.line_start == c.line_end else f"{c.line_start}-{c.line_end}"
    return terminal_safe(f"{c.source}:{lines}", one_line=True)


def excerpt(c: Citation, fold: int = FOLD) -> Text:
    """The passage with the answering sentence highlighted, folded around it when long."""
    start, end = c.highlight if c.highlight else (0, 0)
    if c.highlight is None:
        text = " ".join(c.text.split())
    else:
        # Line ends become spaces; a CRLF is two characters, so the highlight moves back by one per CRLF before it.
        start -= c.text.count("\r\n", 0, start)
        end -= c.text.count("\r\n", 0, end)
        text = c.text.replace("\r\n", " ").replace("\n", " ")
    lo, hi = 0, len(text)
    if len(text) > fold:
        if c.highlight:
            lo = max(0, min(start - 60, end - fold))
            lo = text.rfind(" ", 0, lo) + 1 if lo > 0 else 0
            hi = min(len(text), max(end, lo + fold))
        else:
            hi = text.rfind(" ", 0, fold) if " " in text[:fold] else fold
    out = Text("… " if lo > 0 else "", style="dim")
    # Each piece is made safe after cutting, so the offsets above stay those of the passage.
    if c.highlight and lo <= start < hi:
        out.append(terminal_safe(text[lo:start], one_line=True))
        out.append(terminal_safe(text[start:min(end, hi)], one_line=True), style="bold yellow")
        out.append(terminal_safe(text[min(end, hi):hi], one_line=True))
    else:
        out.append(terminal_safe(text[lo:hi], one_line=True))
    if hi < len(text):
        out.append(f" … (+{len(text) - hi} chars, /sources {c.n})", style="dim")
    return out


def citation_header(c: Citation) -> Text:
    """`[n] source:lines · title · date · score`, and the other articles carrying the passage."""
    t = Text()
    t.append(f"[{c.n}] ", style="bold cyan")
    t.append(_where(c), style="cyan")
    if c.title:
        t.append(f" · {terminal_safe(c.title, one_line=True)}", style="italic")
    if c.date:
        t.append(f" · {terminal_safe(c.date, one_line=True)}", style="green")
    t.append(f" · score {c.score:.2f}", style="dim")
    if c.also_in:
        t.append(f"\n    also in: {_also_in(c)}", style="magenta")
    return t


def _also_in(c: Citation) -> str:
    return ", ".join(terminal_safe(s, one_line=True) for s in c.also_in)


def render_citations(citations: list[Citation], fold: int = FOLD) -> RenderableType:
    parts: list[RenderableType] = []
    for c in citations:
        parts.append(citation_header(c))
        parts.append(Padding(excerpt(c, fold), (0, 0, 1, 4)))
    return Group(*parts)


def render_answer(answer: Answer, fold: int = FOLD) -> RenderableType:
    """The answer, then its sources; an abstention says so and shows the nearest passages."""
    parts: list[RenderableType] = []
    if answer.asked_as:
        parts.append(safe_text(f"(taken as: {answer.asked_as})", "dim italic", one_line=True))
    if answer.abstained:
        parts.append(Text("The articles do not answer this question.", style="bold red"))
        if answer.nearest:
            parts.append(Text("Nearest, but not an answer:", style="dim"))
            parts.append(render_citations(answer.nearest[:2], fold=160))
        return Group(*parts)
    parts.append(safe_text(answer.answer or "", "bold"))
    if len(answer.reported_in) > 1:
        parts.append(Text(f"Reported in {len(answer.reported_in)} articles.", style="magenta"))
    parts.append(Text(""))
    parts.append(render_citations(answer.citations, fold))
    return Group(*parts)


def plain_answer(answer: Answer) -> str:
    """The answer as plain lines, for pipes: no colours, no layout, no control characters."""
    lines: list[str] = []
    if answer.abstained:
        lines.append("The articles do not answer this question.")
        return "\n".join(lines)
    lines.append(terminal_safe(answer.answer or ""))
    if len(answer.reported_in) > 1:
        lines.append(f"Reported in {len(answer.reported_in)} articles.")
    for c in answer.citations:
        extra = f" (also in: {_also_in(c)})" if c.also_in else ""
        meta = " · ".join(terminal_safe(x, one_line=True) for x in (c.title, c.date) if x)
        lines.append(f"[{c.n}] {_where(c)}{' · ' + meta if meta else ''}{extra}")
    return "\n".join(lines)
