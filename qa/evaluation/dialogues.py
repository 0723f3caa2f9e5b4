"""Dialogue sets: conversations whose later turns lean on the earlier ones, scored turn by turn.

A file of JSON lines, one dialogue each: {"id", "turns": [{"q", "src", "key", "kind", "any_key"?}, …]}, where
`kind` says what the turn tests (first, pronoun, definite, ellipsis, swap, topic, ooc, after_abstain). Each
turn is asked with the earlier turns of its dialogue as history, exactly as a front end asks it; an
answerable turn is right when its answer holds the key(s), one the articles do not answer when the bot
abstains. Each follow-up is also asked alone, to show what the conversation adds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from qa.errors import SourceError
from qa.evaluation.questions import Question, in_tuning_half
from qa.evaluation.scoring import contains_gold
from qa.pipeline import Pipeline
from qa.question.conversation import Turn
from qa.question.understanding import understand

KINDS = ("first", "pronoun", "definite", "ellipsis", "swap", "topic", "ooc", "after_abstain")


@dataclass
class Dialogue:
    """One conversation: its id and its turns, each a question with what counts as right and its kind."""

    id: str
    turns: list[tuple[Question, str]]


def is_dialogue_file(path: Path) -> bool:
    """Whether a JSONL file holds dialogues (its first line has "turns") rather than questions."""
    try:
        with open(path, encoding="utf-8") as fh:
            first = next((line for line in fh if line.strip()), "")
        return isinstance(row := json.loads(first), dict) and "turns" in row
    except (OSError, ValueError, UnicodeDecodeError):
        return False


def load_dialogues(path: Path) -> list[Dialogue]:
    """The dialogues of a file; SourceError naming the line of the first malformed one."""
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            turns = []
            for t in row["turns"]:
                kind = str(t.get("kind", "first"))
                if kind not in KINDS:
                    raise ValueError(f"unknown kind {kind!r}")
                turns.append((Question(str(t["q"]), [str(s) for s in t.get("src") or []],
                                       [str(k) for k in t.get("key") or []], any_key=bool(t.get("any_key"))), kind))
            out.append(Dialogue(str(row.get("id", number)), turns))
        except (ValueError, KeyError, TypeError) as exc:
            raise SourceError(f"{path}:{number}: not a dialogue line ({exc})") from None
    if not out:
        raise SourceError(f"{path}: no dialogues in this file")
    return out


def in_half(path: Path, dialogue: Dialogue, split: str) -> bool:
    """Whether the dialogue is in the asked half (whole dialogues are split, by the SHA-1 of their id)."""
    return split == "all" or in_tuning_half(f"{path.name}:{dialogue.id}") == (split == "tune")


@dataclass
class DialogueScores:
    """Turns answered right, by kind, in context and (for follow-ups) alone."""

    name: str
    by_kind: dict[str, list[int]] = field(default_factory=dict)  # kind -> [turns, right in context, right alone]
    wrong: list[str] = field(default_factory=list)  # "dialogue id: question -> answer" of each wrong turn

    @property
    def turns(self) -> int:
        return sum(v[0] for v in self.by_kind.values())

    @property
    def right(self) -> float:
        return sum(v[1] for v in self.by_kind.values()) / max(self.turns, 1)

    def share(self, kinds: tuple[str, ...], alone: bool = False) -> float | None:
        n = sum(self.by_kind[k][0] for k in kinds if k in self.by_kind)
        return sum(self.by_kind[k][2 if alone else 1] for k in kinds if k in self.by_kind) / n if n else None


def is_right(answer_text: str | None, abstained: bool, q: Question) -> bool:
    return contains_gold(answer_text, q) if q.answerable else abstained


def evaluate_dialogues(dialogues: list[Dialogue], pipeline: Pipeline, k: int = 3, name: str = "this bot") -> DialogueScores:
    """Ask every dialogue turn by turn, with its history, as the bot's front ends do."""
    scores = DialogueScores(name)
    for d in dialogues:
        history: list[Turn] = []
        for q, kind in d.turns:
            answer = pipeline.ask(q.q, k, history=history)  # as the bot answers it
            right = is_right(answer.answer, answer.abstained, q)
            if answer.asked_as is not None:
                alone = pipeline.run(understand(q.q), k).answer
                right_alone = is_right(alone.answer, alone.abstained, q)
            else:
                right_alone = right
            row = scores.by_kind.setdefault(kind, [0, 0, 0])
            row[0] += 1
            row[1] += right
            row[2] += right_alone
            if not right:
                scores.wrong.append(f"{d.id}: {q.q} (taken as {answer.asked_as or q.q}) -> "
                                    f"{answer.answer or 'abstained'}")
            history.append(answer.turn())
    return scores
