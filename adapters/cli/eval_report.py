"""`qa eval`: the scores of `qa.evaluation.run` printed side by side with rich."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.table import Table

from adapters.common.safe import safe_text
from qa import config
from qa.evaluation.dialogues import KINDS as DIALOGUE_KINDS
from qa.evaluation.dialogues import DialogueScores
from qa.evaluation.run import evaluate_file
from qa.evaluation.scoring import Scores


def _fmt(x: float | None) -> str:
    return "—" if x is None else f"{x:.3f}"


def print_table(console: Console, title: str, rows: list[Scores]) -> None:
    table = Table(title=safe_text(title), title_justify="left")
    for col in ("system", "hit@1", "hit@5", "MRR@10", "answer has gold", "1st quote has gold", "quotes",
                "answered", "abstained (no answer)"):
        table.add_column(col, justify="left" if col == "system" else "right")
    for s in rows:
        table.add_row(s.name, _fmt(s.hit1), _fmt(s.hit5), _fmt(s.mrr10), _fmt(s.contains), _fmt(s.first_contains),
                      "—" if s.quotes is None else f"{s.quotes:.2f}", _fmt(s.answered), _fmt(s.abstained))
    console.print(table)


def print_breakdown(console: Console, s: Scores) -> None:
    """The first system's answers by kind of question, and why its misses missed."""
    if not s.by_kind:
        return
    from qa.evaluation.scoring import KINDS, MISSES

    kinds = Table(title=safe_text(f"{s.name}: answer has gold, by kind of question"), title_justify="left")
    for col in ("kind", "questions", "answer has gold"):
        kinds.add_column(col, justify="left" if col == "kind" else "right")
    for kind in KINDS:
        if kind in s.by_kind:
            n, right = s.by_kind[kind]
            kinds.add_row(kind, str(n), _fmt(right / n))
    console.print(kinds)
    misses = Table(title=safe_text(f"{s.name}: the answers without the gold"), title_justify="left")
    misses.add_column("why", justify="left")
    misses.add_column("questions", justify="right")
    for why in MISSES:
        misses.add_row(why, str(s.misses.get(why, 0)))
    console.print(misses)


def print_dialogues(console: Console, title: str, scores: list[DialogueScores]) -> None:
    """Turns answered right in context (and, for follow-ups, asked alone), by kind, one column per system."""
    table = Table(title=safe_text(title), title_justify="left")
    table.add_column("turns", justify="left")
    table.add_column("n", justify="right")
    for s in scores:
        table.add_column(safe_text(f"{s.name}: right"), justify="right")
        table.add_column("asked alone", justify="right")
    groups = [(k, (k,)) for k in DIALOGUE_KINDS] + [
        ("all follow-ups", tuple(k for k in DIALOGUE_KINDS if k != "first")), ("all", DIALOGUE_KINDS)]
    for label, kinds in groups:
        n = sum(scores[0].by_kind.get(k, [0])[0] for k in kinds)
        if not n:
            continue
        cells = []
        for s in scores:
            cells += [_fmt(s.share(kinds)), _fmt(s.share(kinds, alone=True))]
        table.add_row(label, str(n), *cells)
    console.print(table)


def run_eval(args: argparse.Namespace, settings: config.Settings) -> int:
    console = Console(highlight=False, width=max(Console().width, 150))
    err = Console(stderr=True)
    with err.status("Scoring…") as status:
        result = evaluate_file(Path(args.file), settings, split=args.split, k=args.k, baselines=not args.no_baselines,
                               index_given=bool(args.index),
                               status=lambda message: status.update(safe_text(message, one_line=True)))
    if result.dialogues:
        print_dialogues(console, result.title, result.dialogues)
    else:
        print_table(console, result.title, result.rows)
        if result.rows:
            print_breakdown(console, result.rows[0])
    for note in result.notes:
        err.print(safe_text(f"note: {note}", "dim", one_line=True))
    return 0
