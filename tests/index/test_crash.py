"""An ingest killed at any moment loses nothing: the index is exactly as before the ingest or as after it, a
reader never sees a mix, and the next ingest finishes the job and leaves no half-written files behind.

The writers are real processes killed with SIGKILL, so no `finally` or `except` of the code runs: what is on disk
at the kill is all that is left. Everything is checked through the public store API only (`open_index`,
`exists`), so these tests hold for any layout of the index folder.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from qa.bot import Bot
from qa.config import resolve
from qa.embedding import SentenceTransformerEmbedder
from qa.index import local as store
from qa.index.local import ingest_paths
from qa.pipeline import Pipeline
from qa.retrieval.retriever import Retriever
from tests.support.index_checks import (
    Snapshot,
    change_corpus,
    difference,
    disk_bytes,
    make_corpus,
    snapshot,
    snapshot_of,
    tree,
    which,
)
from tests.support.ingest_worker import mirror
from tests.support.paths import ROOT
from tests.support.tiny_embedder import TinyEmbedder

WORKER = ["-m", "tests.support.ingest_worker"]  # run from the project root
QA = Path(sys.executable).parent / "qa"
ENCODE_DELAY = 0.005  # seconds per embedder call, so that the embedding phase is long enough to kill in
# After the follow-up ingest the folder may not be much bigger than after an ingest never interrupted:
# a leftover copy of what a killed ingest wrote would add most of the index's size again.
DISK_SLACK = 1.2


def _env() -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}


@contextmanager
def watchdog(proc: subprocess.Popen[str], seconds: float = 60) -> Iterator[None]:
    """Kill a child that hangs, so that a deadlock fails the test instead of stalling the suite."""
    timer = threading.Timer(seconds, proc.kill)
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def kill_group(proc: subprocess.Popen[str]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the child leads its own session: its group is ours to kill
    except ProcessLookupError:
        pass


class Workers:
    """Ingest workers for one index and corpus, each started ahead of its turn so that its Python start-up
    overlaps the checks of the previous one."""

    def __init__(self, index: Path, corpus: Path) -> None:
        self.index, self.corpus = index, corpus
        self.next = self._spawn()

    def _spawn(self) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, *WORKER, "ingest", str(self.index), str(self.corpus), "--delay", str(ENCODE_DELAY)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=_env(),
            start_new_session=True,
        )

    def start(self) -> subprocess.Popen[str]:
        """A worker that has begun its ingest (it waited for the word on stdin)."""
        proc, self.next = self.next, self._spawn()
        assert proc.stdin is not None and proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read() if proc.stderr else ""
        proc.stdin.write("go\n")
        proc.stdin.flush()
        return proc

    def close(self) -> None:
        kill_group(self.next)
        self.next.communicate(timeout=30)


def timeline(workers: Workers) -> tuple[int, float]:
    """Run an ingest to the end: how many embedder calls it makes, and the seconds from the last call until the
    ingest returns (vectors and metadata written, the new index made live, old files removed)."""
    proc = workers.start()
    stamps: list[tuple[float, list[str]]] = []
    with watchdog(proc):
        assert proc.stdout is not None
        for line in proc.stdout:
            stamps.append((time.monotonic(), line.split()))
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    encodes = [t for t, words in stamps if words[0] == "encode"]
    done = next(t for t, words in stamps if words[0] == "done")
    return len(encodes), done - encodes[-1]


def kill_at(workers: Workers, trigger: str, delay: float) -> bool:
    """Start an ingest and SIGKILL it `delay` seconds after it prints `trigger`; True if it had finished first."""
    proc = workers.start()
    seen: list[str] = []
    with watchdog(proc):
        assert proc.stdout is not None
        for line in proc.stdout if trigger != "start" else ():
            seen.append(line.strip())
            if seen[-1] == trigger:
                break
        if delay:
            time.sleep(delay)
        kill_group(proc)
        rest, err = proc.communicate(timeout=30)
    seen.extend(rest.split("\n"))
    finished = any(line.startswith("done") for line in seen)
    assert finished or proc.returncode == -signal.SIGKILL, f"the worker failed on its own: {err}"
    return finished


def sizes(index: Path) -> dict[str, int]:
    """Names and sizes under the index folder (not times: taking a lock may touch a file without writing)."""
    return {name: size for name, (size, _) in tree(index).items()} if index.exists() else {}


@dataclass
class Outcome:
    """One killed ingest: where the kill was aimed, how far the ingest got, and what the index held after it."""

    trigger: str
    delay: float
    finished: bool  # the ingest had returned before the kill landed
    state: str  # "absent", "before" or "after"
    wrote: bool  # names or sizes in the index folder changed

    def __str__(self) -> str:
        return (f"{self.trigger} +{self.delay * 1000:.0f}ms -> {self.state}"
                f"{' (had finished)' if self.finished else ''}{' (wrote files)' if self.wrote else ''}")


def state_of(index: Path, named: dict[str, Snapshot], first_build: bool, where: str) -> str:
    """Which of the named snapshots the index equals now; fails on a mix or an index that cannot be opened."""
    if not store.exists(index):
        assert first_build, f"{where}: the index vanished"
        return "absent"
    try:
        snap = snapshot(index)
    except Exception as exc:  # any failure to open is the bug this test looks for
        raise AssertionError(f"{where}: the index cannot be opened: {exc!r}") from exc
    name = which(snap, named)
    assert name is not None, f"{where}: the index is a mix: " + "; ".join(
        f"against {n}: {difference(snap, s)}" for n, s in named.items())
    return name


def kill_points(calls: int, window: float) -> list[tuple[str, float]]:
    """Moments to kill at: before any work, during embedding, and spread over the time from the last embedding
    call to the end of the ingest (writing vectors and metadata, making the new index live, cleaning up).

    The late kills come first and the early ones last: a late kill tends to let the ingest commit (the index
    is then reset to its old state), an early one leaves leftovers that pile up for the final follow-up."""
    embedding = sorted({1, calls // 3, 2 * calls // 3, calls - 1} - {0, calls})
    # closer together near the end, where making the new index live and removing the old one take little time
    # (each run's timing varies a little, so these land on both sides of the commit)
    late = [window * f for f in (1.1, 1.0, 0.97, 0.94, 0.91, 0.85, 0.6, 0.3, 0.0)]
    return [*((f"encode {calls}", d) for d in late), ("start", 0.0), *((f"encode {k}", 0.0) for k in embedding)]


def kill_repeatedly(work: Path, corpus: Path, before_dir: Path | None, after: Snapshot) -> list[Outcome]:
    """Kill an ingest of `corpus` at many moments, starting from the index in `before_dir` (or from no index).
    After each kill the index must be exactly the before or the after one; the next ingest starts from what
    the kill left. At the end a follow-up ingest must reach `after` and leave no leftovers of the killed ones."""
    index = work / "index"
    before = snapshot(before_dir) if before_dir is not None else None
    named = {"after": after} if before is None else {"before": before, "after": after}

    def reset() -> None:
        shutil.rmtree(index, ignore_errors=True)
        if before_dir is not None:
            shutil.copytree(before_dir, index, symlinks=True)

    def assert_clean(where: str) -> None:
        assert disk_bytes(index) <= clean_bytes * DISK_SLACK + 64 * 1024, (
            f"{where}: leftovers of killed ingests were not cleaned up "
            f"({disk_bytes(index)} bytes on disk, {clean_bytes} after an uninterrupted ingest)")

    workers = Workers(index, corpus)
    try:
        # an ingest that is never interrupted gives the timeline to aim at and the size of a clean index
        reset()
        calls, window = timeline(workers)
        assert state_of(index, named, before is None, "uninterrupted ingest") == "after"
        clean_bytes = disk_bytes(index)
        reset()

        outcomes: list[Outcome] = []
        for trigger, delay in kill_points(calls, window):
            on_disk = sizes(index)
            finished = kill_at(workers, trigger, delay)
            where = f"kill at {trigger} +{delay * 1000:.0f}ms"
            state = state_of(index, named, before is None, where)
            outcomes.append(Outcome(trigger, delay, finished, state, sizes(index) != on_disk))
            assert not finished or state == "after", f"{where}: the ingest had finished but the index is {state}"
            if finished:
                assert_clean(where)  # a completed ingest removed what the killed ones before it left
            if state == "after":
                reset()
    finally:
        workers.close()

    # what the kills left must neither be read nor stay: the next ingest completes and cleans up
    # (the late kills come first, so what the earliest of them wrote is usually still there for it to clean)
    assert any(o.wrote and o.state != "after" for o in outcomes), "no kill landed while the ingest was writing:\n" \
        + "\n".join(map(str, outcomes))
    ingest_paths([corpus], index, TinyEmbedder())
    assert difference(snapshot(index), after) is None, "the follow-up ingest differs from a fresh build"
    assert_clean("follow-up ingest")
    late = [o for o in outcomes if o.trigger == f"encode {calls}" and not o.finished]
    assert len(late) >= 3, "too few kills landed between the embedding and the end of the ingest:\n" + "\n".join(
        map(str, outcomes))
    return outcomes


def fresh_build(corpus: Path, index: Path) -> Snapshot:
    ingest_paths([corpus], index, TinyEmbedder())
    return snapshot(index)


def test_killed_first_build_and_killed_update_leave_the_old_or_the_new_index(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus", articles=30, seed=1)
    first = fresh_build(corpus, tmp_path / "first")

    kill_repeatedly(tmp_path / "build", corpus, None, first)

    change_corpus(corpus, seed=2)
    second = fresh_build(corpus, tmp_path / "second")
    assert difference(first, second) is not None  # the update changes what the index holds
    outcomes = kill_repeatedly(tmp_path / "update", corpus, tmp_path / "first", second)
    assert any(o.state == "before" for o in outcomes)


# ---- a reader never sees a mix of two ingests ----------------------------------------------------------------

READER_SECONDS = 5.0


def test_reader_during_ingests_sees_exactly_one_corpus_or_the_other(tmp_path: Path) -> None:
    """While a writer process switches the folder between two versions and ingests it again and again, a reader
    that opens the index, reads all of it and answers a question sees exactly one version each time."""
    # small corpora: each ingest is quick, so the writer replaces the index many times while the reader reads
    a = make_corpus(tmp_path / "a", articles=2, seed=3, paragraphs=3)
    b = tmp_path / "b"
    shutil.copytree(a, b)
    change_corpus(b, seed=4)
    live = tmp_path / "live"
    refs = {}
    for version, state in (("B", b), ("A", a)):  # A last: the live index starts as A
        mirror(state, live)
        refs[version] = fresh_build(live, tmp_path / f"ref-{version}")
    index = tmp_path / "index"
    ingest_paths([live], index, TinyEmbedder())

    tiny = TinyEmbedder()
    proc = subprocess.Popen([sys.executable, *WORKER, "alternate", str(index), str(live), str(READER_SECONDS),
                             str(b), str(a)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            env=_env(), start_new_session=True)
    seen = {"A": 0, "B": 0}
    problems: list[str] = []
    with watchdog(proc, READER_SECONDS + 60):
        reads = 0
        while proc.poll() is None:
            reads += 1
            try:
                data = store.open_index(index)
                # reading everything takes a while: most reads only open the index, which is where a reader
                # racing a writer is most likely to find files half there; every eighth reads all and compares
                if reads % 8:
                    continue
                snap = snapshot_of(data)
                if reads % 40 == 0:  # now and then answer a question from the index just opened
                    answer = Pipeline(Retriever(data, tiny)).ask("Who spoke about the Haiti mission?", k=3,
                                                                 mode="hybrid")
                    held = {p["text"] for ps in snap.passages.values() for p in ps}
                    assert all(c.text in held for c in answer.citations)
            except Exception as exc:  # a reader must never fail, whatever the writer is doing
                problems.append(f"read {reads}: {exc!r}")
                continue
            name = which(snap, refs)
            if name is None:
                problems.append(f"read {reads}: a mix: " + "; ".join(f"against {n}: {difference(snap, s)}"
                                                                      for n, s in refs.items()))
            else:
                seen[name] += 1
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    commits = out.count("committed")
    assert not problems, f"{len(problems)} of {reads} reads went wrong; first ones:\n" + "\n".join(problems[:5])
    assert commits >= 4 and reads >= 20, (commits, reads)
    assert seen["A"] and seen["B"], seen  # the reader really did read during the writes


def test_index_opened_before_ingests_reads_the_same_after_them(tmp_path: Path) -> None:
    """A front end keeps its index open for hours (the Slack bot, the REPL) while `qa ingest` replaces it: what it
    opened must stay whole and unchanged, whatever the ingests removed from the folder since."""
    corpus = make_corpus(tmp_path / "corpus", articles=2, seed=5, paragraphs=3)
    index = tmp_path / "index"
    ingest_paths([corpus], index, TinyEmbedder())
    expected = snapshot(index)
    data = store.open_index(index)  # opened, not read yet: a store may read its files only when asked
    for seed in (6, 7):  # twice, so that whatever held the first version is no longer needed by the live index
        change_corpus(corpus, seed=seed)
        ingest_paths([corpus], index, TinyEmbedder())
    assert difference(snapshot(index), expected) is not None
    assert difference(snapshot_of(data), expected) is None
    answer = Pipeline(Retriever(data, TinyEmbedder())).ask("Who spoke about the Haiti mission?", k=3, mode="hybrid")
    held = {p["text"] for ps in expected.passages.values() for p in ps}
    assert all(c.text in held for c in answer.citations)


# ---- the real `qa ingest` killed; `qa ask` answers as before or as after ---------------------------------------

PLEDGE = "How much did the Biden administration pledge to the Haiti mission?"
MARATHON = "Who won the Lake Victoria marathon in Kisumu?"
MARATHON_ARTICLE = """Ochieng Wins Lake Victoria Marathon

Kenyan runner Samuel Ochieng won the Lake Victoria marathon in Kisumu on Sunday in two hours and eight minutes.

The race drew more than four thousand runners from across East Africa, the organisers said.
"""


def ask_in_process(index: Path, embedder: SentenceTransformerEmbedder) -> list[dict]:
    bot = Bot(resolve(index=index), embedder=embedder)
    return [bot.ask(q).to_json() for q in (PLEDGE, MARATHON)]


def same_answers(got: list[dict], want: list[dict]) -> bool:
    """Equal answers and citations; scores may differ in the last digits between processes."""
    def strip(answers: list[dict]) -> list[dict]:
        return [{**a, "citations": [{**c, "score": None} for c in a["citations"]]} for a in answers]

    if strip(got) != strip(want):
        return False
    return all(abs(c["score"] - d["score"]) < 2e-3 for a, b in zip(got, want, strict=True)
               for c, d in zip(a["citations"], b["citations"], strict=True))


def after_seconds(seconds: float) -> Callable[[subprocess.Popen[str], Path], None]:
    def wait(proc: subprocess.Popen[str], index: Path) -> None:
        time.sleep(seconds)
    return wait


def after_writes_begin(extra: float) -> Callable[[subprocess.Popen[str], Path], None]:
    """Wait until the ingest starts changing the index folder, then `extra` seconds more."""
    def wait(proc: subprocess.Popen[str], index: Path) -> None:
        start = sizes(index)
        while proc.poll() is None and sizes(index) == start:
            time.sleep(0.001)
        time.sleep(extra)
    return wait


def test_killed_qa_ingest_leaves_qa_ask_answering_as_before_or_as_after(
    tmp_path: Path, seeds_index: Path, embedder: SentenceTransformerEmbedder,
) -> None:
    """`qa ingest` of a new article is killed while loading, at its first write and just after; `qa ask` on what
    each kill left answers exactly as before the ingest or as after it."""
    index = tmp_path / "index"
    shutil.copytree(seeds_index, index, symlinks=True)
    before, before_answers = snapshot(index), ask_in_process(index, embedder)
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "005_marathon.txt").write_text(MARATHON_ARTICLE, encoding="utf-8")
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    questions = tmp_path / "questions.txt"
    questions.write_text(f"{PLEDGE}\n{MARATHON}\n", encoding="utf-8")

    killed: list[tuple[str, Snapshot, subprocess.Popen[str] | None]] = []
    for label, wait in (("1s in, loading", after_seconds(1.0)), ("at its first write", after_writes_begin(0.0)),
                        ("30ms after its first write", after_writes_begin(0.03))):
        # each kill meets the ingest from the same start: an ingest that finished before its kill (a fast
        # machine, a light backend) would otherwise leave the next ones nothing to write
        shutil.rmtree(index)
        shutil.copytree(seeds_index, index, symlinks=True)
        on_disk = sizes(index)
        with open(tmp_path / "ingest.err", "w") as ingest_err:
            proc = subprocess.Popen([str(QA), "ingest", str(extra), "--index", str(index)], stdout=subprocess.DEVNULL,
                                    stderr=ingest_err, text=True, env=env, start_new_session=True)
            with watchdog(proc, 180):
                wait(proc, index)
                kill_group(proc)
                proc.wait(timeout=30)
        try:
            state = snapshot(index)
        except Exception as exc:  # any failure to open is the bug this test looks for
            raise AssertionError(f"qa ingest killed {label}: the index cannot be opened: {exc!r}") from exc
        ask = None
        if sizes(index) != on_disk:
            # the kill left something on disk: `qa ask` reads a copy of it as it is, while the next ingest goes on
            # (an index the kill did not touch answers as the `before` one, with nothing to learn from asking)
            copy = tmp_path / f"killed-{len(killed)}"
            shutil.copytree(index, copy, symlinks=True)
            with open(questions) as stdin:
                ask = subprocess.Popen([str(QA), "ask", "--json", "--index", str(copy)], stdin=stdin,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        killed.append((label, state, ask))

    ingest_paths([extra], index, embedder)  # the follow-up completes what the kills interrupted
    after, after_answers = snapshot(index), ask_in_process(index, embedder)
    assert before_answers[1]["abstained"] and "Ochieng" in str(after_answers[1]["answer"])
    assert same_answers(after_answers[:1], before_answers[:1])  # an unrelated article changes no other answer
    assert sum(ask is not None for _, _, ask in killed) >= 2, "the kills left nothing on disk to ask"
    for label, state, ask in killed:
        name = which(state, {"before": before, "after": after})
        assert name is not None, f"qa ingest killed {label}: the index is a mix: {difference(state, before)}; " \
                                 f"{difference(state, after)}"
        if ask is None:
            continue
        with watchdog(ask, 180):
            out, err = ask.communicate(timeout=180)
        assert ask.returncode == 0 and "Traceback" not in err, f"killed {label}, index {name}: {err}"
        got = [json.loads(line) for line in out.splitlines()]
        want = before_answers if name == "before" else after_answers
        assert same_answers(got, want), f"killed {label}, index {name}: qa ask answered {got}, expected {want}"
