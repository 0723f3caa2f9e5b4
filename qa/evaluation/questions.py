"""Question sets for evaluation: JSONL ({q, src, key}) and SQuAD 2.0 JSON (each paragraph a document)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from qa.documents import Document, parse_text
from qa.errors import SourceError


@dataclass
class Question:
    """One question with what counts as right: the sources that answer it and the phrases an answer holds."""

    q: str
    sources: list[str]  # source-name prefixes that answer it; empty: no article answers it
    keys: list[str] = field(default_factory=list)
    any_key: bool = False  # SQuAD gives alternative answers: one of them suffices
    qid: str = ""

    @property
    def answerable(self) -> bool:
        return bool(self.sources)


@dataclass
class QuestionSet:
    questions: list[Question]
    documents: list[Document] | None = None  # a SQuAD file brings its own corpus


def in_tuning_half(qid: str) -> bool:
    """The fixed split used to choose weights and thresholds: ids whose SHA-1 ends in an even hex digit."""
    return int(hashlib.sha1(qid.encode()).hexdigest()[-1], 16) % 2 == 0


def load_jsonl(path: Path) -> QuestionSet:
    questions = []
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                questions.append(Question(str(row["q"]), [str(s) for s in row.get("src") or []],
                                          [str(k) for k in row.get("key") or []], any_key=bool(row.get("any_key")),
                                          qid=f"{path.name}:{number}"))
            except (ValueError, KeyError, TypeError) as exc:
                raise SourceError(f"{path}:{number}: not a question line ({exc})") from None
    return QuestionSet(questions)


def load_squad(path: Path, data: dict) -> QuestionSet:
    docs: list[Document] = []
    questions: list[Question] = []
    for article in data["data"]:
        for i, para in enumerate(article["paragraphs"]):
            source = f"{article['title']}/{i:03d}"
            doc = parse_text(source, " ".join(para["context"].split()))
            doc.title = article["title"].replace("_", " ")
            docs.append(doc)
            for qa in para["qas"]:
                answerable = not qa.get("is_impossible") and qa.get("answers")
                keys = list(dict.fromkeys(a["text"] for a in qa.get("answers", []))) if answerable else []
                questions.append(Question(qa["question"], [source] if answerable else [], keys,
                                          any_key=True, qid=qa["id"]))
    return QuestionSet(questions, docs)


def load(path: Path) -> QuestionSet:
    """Load a question set, telling the format by its content."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"{path}: cannot read question set ({exc})") from None
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise SourceError(f"{path}: not valid JSON ({exc})") from None
        if isinstance(data, dict) and "data" in data:
            return load_squad(path, data)
        raise SourceError(f"{path}: JSON but not SQuAD format (expected a top-level 'data' list)")
    qs = load_jsonl(path)
    if not qs.questions:
        raise SourceError(f"{path}: no questions in this file")
    return qs
