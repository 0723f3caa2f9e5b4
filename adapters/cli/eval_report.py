"""`qa eval`: the scores of `qa.evaluation.run` printed side by side with rich."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.table import Table

from adapters.common.safe import safe_text
from qa import config
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


def run_eval(args: argparse.Namespace, settings: config.Settings) -> int:
    console = Console(highlight=False, width=max(Console().width, 150))
    err = Console(stderr=True)
    with err.status("Scoring…") as status:
        result = evaluate_file(Path(args.file), settings, split=args.split, k=args.k, baselines=not args.no_baselines,
                               index_given=bool(args.index),
                               status=lambda message: status.update(safe_text(message, one_line=True)))
    print_table(console, result.title, result.rows)
    for note in result.notes:
        err.print(safe_text(f"note: {note}", "dim", one_line=True))
    return 0
