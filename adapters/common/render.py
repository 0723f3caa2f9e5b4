"""Answers drawn for the terminal with rich (the command line and the chat), and as plain lines for pipes."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.text import Text

from adapters.common.safe import safe_text, terminal_safe
from adapters.common.view import answer_pieces
from qa.answering.answer import Answer, Citation
from qa.answering.excerpt import excerpt as cut

FOLD = 320  # characters of a cited passage shown before it is folded


STALE = "changed since indexed — run qa ingest"


def _where(c: Citation) -> str:
    return terminal_safe(c.where, one_line=True)


def excerpt(c: Citation, fold: int = FOLD) -> Text:
    """The passage with the answering sentence highlighted, folded around it when long."""
    x = cut(c.text, c.highlight, fold)
    out = Text("… " if x.cut_before else "", style="dim")
    # each piece is made safe after cutting, so the offsets stay those of the passage
    out.append(terminal_safe(x.before, one_line=True))
    out.append(terminal_safe(x.sentence, one_line=True), style="bold yellow")
    out.append(terminal_safe(x.after, one_line=True))
    if x.cut_after:
        out.append(f" … (+{len(x.text) - x.hi} chars, /sources {c.n})", style="dim")
    return out


def citation_header(c: Citation) -> Text:
    """`[n] source:lines · title · date · score`, and the other articles carrying the passage."""
    t = Text()
    t.append(f"[{c.n}] ", style="bold cyan")
    t.append(_where(c), style="cyan")
    if (title := c.title_shown):
        t.append(f" · {terminal_safe(title, one_line=True)}", style="italic")
    if c.date:
        t.append(f" · {terminal_safe(c.date, one_line=True)}", style="green")
    t.append(f" · score {c.score:.2f}", style="dim")
    if c.url:
        t.append(f"\n    link: {terminal_safe(c.url, one_line=True)}", style="blue")
    if c.stale:
        t.append(f"\n    {STALE}", style="bold red")
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
    said = Text(style="bold")
    for text, marked in answer_pieces(answer):  # the part that answers is underlined too
        said.append_text(safe_text(text, "underline" if marked else ""))
    parts.append(said)
    if len(answer.reported_in) > 1:
        parts.append(Text(f"Reported in {len(answer.reported_in)} articles.", style="magenta"))
    parts.append(Text(""))
    parts.append(render_citations(answer.citations, fold))
    return Group(*parts)


def plain_answer(answer: Answer) -> str:
    """The answer as plain lines, for pipes: no colours, no layout, no control characters; each citation
    followed by its passage, indented."""
    lines: list[str] = []
    if answer.abstained:
        lines.append("The articles do not answer this question.")
        return "\n".join(lines)
    lines.append(terminal_safe(answer.answer or ""))
    if len(answer.reported_in) > 1:
        lines.append(f"Reported in {len(answer.reported_in)} articles.")
    for c in answer.citations:
        extra = f" (also in: {_also_in(c)})" if c.also_in else ""
        meta = " · ".join(terminal_safe(x, one_line=True) for x in (c.title_shown, c.date) if x)
        link = f" · {terminal_safe(c.url, one_line=True)}" if c.url else ""
        stale = f" ({STALE})" if c.stale else ""
        lines.append(f"[{c.n}] {_where(c)}{' · ' + meta if meta else ''}{link}{extra}{stale}")
        lines.append("    " + excerpt(c).plain)  # the passage, folded around the quoted sentence
    return "\n".join(lines)
