"""Rich rendering of answers for the terminal (the command line and the chat)."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.text import Text

from qa.answer import Answer, Citation

FOLD = 320  # characters of a cited passage shown before it is folded


def _where(c: Citation) -> str:
    lines = f"{c.line_start}" if c.line_start == c.line_end else f"{c.line_start}-{c.line_end}"
    return f"{c.source}:{lines}"


def excerpt(c: Citation, fold: int = FOLD) -> Text:
    """The passage with the answering sentence highlighted, folded around it when long."""
    text = " ".join(c.text.split()) if c.highlight is None else c.text.replace("\n", " ")
    start, end = c.highlight if c.highlight else (0, 0)
    lo, hi = 0, len(text)
    if len(text) > fold:
        if c.highlight:
            lo = max(0, min(start - 60, end - fold))
            lo = text.rfind(" ", 0, lo) + 1 if lo > 0 else 0
            hi = min(len(text), max(end, lo + fold))
        else:
            hi = text.rfind(" ", 0, fold) if " " in text[:fold] else fold
    out = Text("… " if lo > 0 else "", style="dim")
    if c.highlight and lo <= start < hi:
        out.append(text[lo:start])
        out.append(text[start:min(end, hi)], style="bold yellow")
        out.append(text[min(end, hi):hi])
    else:
        out.append(text[lo:hi])
    if hi < len(text):
        out.append(f" … (+{len(text) - hi} chars, /sources {c.n})", style="dim")
    return out


def citation_header(c: Citation) -> Text:
    t = Text()
    t.append(f"[{c.n}] ", style="bold cyan")
    t.append(_where(c), style="cyan")
    if c.title:
        t.append(f" · {c.title}", style="italic")
    if c.date:
        t.append(f" · {c.date}", style="green")
    t.append(f" · score {c.score:.2f}", style="dim")
    if c.also_in:
        t.append(f"\n    also in: {', '.join(c.also_in)}", style="magenta")
    return t


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
        parts.append(Text(f"(taken as: {answer.asked_as})", style="dim italic"))
    if answer.abstained:
        parts.append(Text("The articles do not answer this question.", style="bold red"))
        if answer.nearest:
            parts.append(Text("Nearest, but not an answer:", style="dim"))
            parts.append(render_citations(answer.nearest[:2], fold=160))
        return Group(*parts)
    parts.append(Text(answer.answer or "", style="bold"))
    if len(answer.reported_in) > 1:
        parts.append(Text(f"Reported in {len(answer.reported_in)} articles.", style="magenta"))
    parts.append(Text(""))
    parts.append(render_citations(answer.citations, fold))
    return Group(*parts)


def plain_answer(answer: Answer) -> str:
    """The answer as plain lines, for pipes: no colours, no layout."""
    lines: list[str] = []
    if answer.abstained:
        lines.append("The articles do not answer this question.")
        return "\n".join(lines)
    lines.append(answer.answer or "")
    if len(answer.reported_in) > 1:
        lines.append(f"Reported in {len(answer.reported_in)} articles.")
    for c in answer.citations:
        extra = f" (also in: {', '.join(c.also_in)})" if c.also_in else ""
        meta = " · ".join(x for x in (c.title, c.date) if x)
        lines.append(f"[{c.n}] {_where(c)}{' · ' + meta if meta else ''}{extra}")
    return "\n".join(lines)
