"""Follow-up rewriting on two-turn conversations: is the second turn answered from the right article?

Each line of the file: {"turns": [first question, follow-up], "src": [file-name prefixes]}.
The follow-up is asked with the first turn as history, and alone, for comparison.

Run: .venv/bin/python bench/followups.py [tests/data/followups.jsonl] [--index DIR]
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from qa.answering.answer import Answer
from qa.bot import Bot
from qa.config import resolve


def first_source(answer: Answer) -> str:
    cited = answer.citations or answer.nearest
    return os.path.basename(cited[0].source) if cited else ""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("file", nargs="?", type=Path, default=Path("tests/data/followups.jsonl"))
    parser.add_argument("--index", help="index folder (default: as `qa` would use)")
    args = parser.parse_args()
    bot = Bot(resolve(index=args.index))
    conversations = [json.loads(line) for line in args.file.read_text(encoding="utf-8").splitlines() if line.strip()]
    with_history = alone = 0
    for c in conversations:
        first, follow_up = c["turns"]
        previous = bot.ask(first)
        for history, label in (([(first, previous.answer)], "with history"), ([], "alone")):
            answer = bot.ask(follow_up, history=history)
            right = not answer.abstained and first_source(answer).startswith(tuple(c["src"]))
            if history:
                with_history += right
            else:
                alone += right
            print(f"{'right' if right else 'WRONG':>5} {label:<12} {follow_up!r} -> {first_source(answer) or 'abstained'}")
    n = len(conversations)
    print(f"{n} conversations: the follow-up finds the right article in {with_history}/{n} with the "
          f"conversation's history, {alone}/{n} alone")


if __name__ == "__main__":
    main()
