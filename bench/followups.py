"""Dialogues over the seeds, asked turn by turn as a front end asks them: how many turns are answered right,
by kind, and how long a follow-up takes against a first question (the target: at most 1.5 times).

Each line of the file is one dialogue (see `qa.evaluation.dialogues`). Every turn is asked through `Bot.ask`
with the earlier turns' `Answer.turn()` as history, warm (each question is asked once before it is timed).

Run: .venv/bin/python bench/followups.py [tests/data/dialogues.jsonl] [--index DIR] [--split test]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from qa.bot import Bot
from qa.config import resolve
from qa.evaluation.dialogues import in_half, is_right, load_dialogues
from qa.question.conversation import Turn


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("file", nargs="?", type=Path, default=Path("tests/data/dialogues.jsonl"))
    parser.add_argument("--index", help="index folder (default: as `qa` would use)")
    parser.add_argument("--split", default="all", choices=("all", "tune", "test"))
    args = parser.parse_args()
    bot = Bot(resolve(index=args.index))
    bot.build_if_missing()
    dialogues = [d for d in load_dialogues(args.file) if in_half(args.file, d, args.split)]
    rows: dict[str, list[int]] = {}
    first_ms: list[float] = []
    follow_ms: list[float] = []
    for d in dialogues:
        history: list[Turn] = []
        for q, kind in d.turns:
            bot.ask(q.q, history=history)  # warm: the timing below is of a question asked before
            started = time.perf_counter()
            answer = bot.ask(q.q, history=history)
            elapsed = (time.perf_counter() - started) * 1000
            (follow_ms if answer.asked_as else first_ms).append(elapsed)
            row = rows.setdefault(kind, [0, 0])
            row[0] += 1
            row[1] += is_right(answer.answer, answer.abstained, q)
            history.append(answer.turn())
    turns = sum(r[0] for r in rows.values())
    print(f"{args.file.name} ({args.split}): {len(dialogues)} dialogues, {turns} turns")
    for kind, (n, right) in sorted(rows.items()):
        print(f"  {kind:<14} {right:>3}/{n:<3} {right / n:.3f}")
    print(f"  {'all':<14} {sum(r[1] for r in rows.values()):>3}/{turns:<3} "
          f"{sum(r[1] for r in rows.values()) / max(turns, 1):.3f}")
    if first_ms and follow_ms:
        a, b = statistics.median(first_ms), statistics.median(follow_ms)
        print(f"warm p50: question taken alone {a:.0f} ms ({len(first_ms)}), follow-up rewritten from the "
              f"conversation {b:.0f} ms ({len(follow_ms)}): {b / a:.2f}x")


if __name__ == "__main__":
    main()
