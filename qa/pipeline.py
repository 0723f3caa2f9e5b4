"""One question, one pass: understand → retrieve → read → decide → compose. Each stage returns a frozen value
and none calls back into an earlier one; the bot, `qa eval` and the benchmarks all answer through here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from qa.answering.answer import Answer, Citation
from qa.answering.compose import compose, ranked
from qa.config import HISTORY_TURNS
from qa.documents.freshness import FileCheck
from qa.policy.decide import Decision, Policy, decide, reading_kind
from qa.question.conversation import Turn, resolve
from qa.question.understanding import Question, understand
from qa.reader.reading import Reading, SentenceReader
from qa.retrieval.retriever import Query, Retrieval, Retriever

POOL = 10  # passages searched for an answer without the reader; only k of them are cited


@dataclass(frozen=True)
class Trace:
    """Every stage's result for one question: what `qa eval` scores and explains."""

    question: Question
    retrieval: Retrieval
    reading: Reading | None
    decision: Decision
    answer: Answer


class Pipeline:
    """Answers questions from a retriever, with a reader when given one, under a policy."""

    def __init__(self, retriever: Retriever, reader: SentenceReader | None = None, policy: Policy | None = None) -> None:
        self.retriever = retriever
        self.reader = reader
        self.policy = policy or Policy()
        self.files = FileCheck()  # whether a cited file changed since it was indexed

    def with_reader(self, reader: SentenceReader | None) -> Pipeline:
        """The same pipeline with another reader (or none)."""
        return Pipeline(self.retriever, reader, self.policy)

    @property
    def pool(self) -> int:
        """How many passages retrieval returns (the reader reads further down the list than is cited)."""
        return POOL if self.reader is None else max(POOL, self.reader.budget.hits)

    def prepare(self, questions: list[Question]) -> list[Query]:
        """The questions embedded with one batched call, for `run`."""
        return self.retriever.prepare_many([q.searched for q in questions])

    def run(self, question: Question, k: int = 3, mode: str = "hybrid", query: Query | None = None,
            exclude: set[str] | None = None) -> Trace:
        """Answer an understood question (`query` is its prepared form, when the caller has it; `exclude` leaves
        whole sources out, as if they were not indexed)."""
        query = query or self.retriever.prepare(question.searched)
        reach = self.reader.budget.reach if self.reader is not None and (question.names or question.answer_kind) else 0
        leads = {"event": "period", "latest": "latest"}.get(question.intent or "")
        retrieval = self.retriever.retrieve(query, question.names, k=max(k, self.pool), mode=mode, exclude=exclude,
                                            reach=reach, leads=leads)
        reading = None
        if self.reader is not None and retrieval.hits:
            reading = self.reader.read(question, retrieval, reading_kind(question, self.policy))
        decision = decide(question, retrieval, reading, self.policy)
        return Trace(question, retrieval, reading, decision, compose(question, retrieval, decision, k))

    def redecide(self, trace: Trace, policy: Policy, k: int = 3) -> Trace:
        """`trace` answered under another policy, from the same retrieval and reading (nothing runs again):
        how a policy is tuned. The reading is only reused for a policy that reads the same sentences."""
        if reading_kind(trace.question, policy) != reading_kind(trace.question, self.policy):
            raise ValueError("this policy reads other sentences: run the question again")
        decision = decide(trace.question, trace.retrieval, trace.reading, policy)
        return replace(trace, decision=decision, answer=compose(trace.question, trace.retrieval, decision, k))

    def ask(self, text: str, k: int = 3, mode: str = "hybrid", asked_as: str | None = None,
            history: Sequence[Turn | Sequence[str | None]] = ()) -> Answer:
        """Answer `text`, citations checked for staleness. `history` holds the earlier turns of its conversation
        (the last HISTORY_TURNS are read) from which a follow-up is made standalone; `asked_as` gives that
        standalone form directly."""
        if asked_as is None and history:
            resolution = resolve(text, history, HISTORY_TURNS)
            asked_as = resolution.searched if resolution.rewritten else None
        answer = self.run(understand(text, asked_as), k, mode).answer
        self.mark_stale(answer.citations + answer.nearest)
        return answer

    def search(self, text: str, k: int = 5, mode: str = "hybrid") -> list[Citation]:
        """The `k` best passages for `text`, as citations numbered by rank (no answer is chosen)."""
        question = understand(text)
        found = ranked(self.retriever.retrieve(self.retriever.prepare(question.searched), k=k, mode=mode), k)
        self.mark_stale(found)
        return found

    def mark_stale(self, citations: list[Citation]) -> None:
        """Flag each citation whose file changed or vanished since it was indexed."""
        for c in citations:
            c.stale = self.files.changed(c.file, c.file_hash)
