"""A writer process for the crash and concurrency tests, killed or run alongside readers by the tests.

    python -m tests.support.ingest_worker ingest INDEX PATH... [--delay SECONDS]
        One `ingest_paths` with the tiny embedder. Prints `ready` once imported and starts when it reads a line
        on stdin (so a test can start the next worker while it checks the last one); then prints `encode N`
        after each call to the embedder (so a test can kill it at a known point of the work), and `done P` when
        the ingest returned. `--delay` sleeps that long in each call, so the embedding phase lasts long enough
        to be hit.

    python -m tests.support.ingest_worker alternate INDEX TARGET SECONDS STATE...
        Until SECONDS have passed, makes the folder TARGET hold exactly the files of each STATE folder in
        turn and ingests it, printing `committed I` after each ingest of state I.
"""

from __future__ import annotations

import sys
import time
from itertools import cycle
from pathlib import Path

import numpy as np

from qa.index.local import ingest_paths
from tests.support.tiny_embedder import TinyEmbedder


class ReportingEmbedder(TinyEmbedder):
    """The tiny embedder, announcing each call on stdout and optionally slowed by a fixed sleep per call."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    def encode(self, texts: list[str]) -> np.ndarray:
        out = super().encode(texts)
        if self.delay:
            time.sleep(self.delay)
        print(f"encode {len(self.calls)}", flush=True)
        return out


def mirror(state: Path, target: Path) -> None:
    """Make `target` hold exactly the files of `state`, with their contents."""
    wanted = {p.relative_to(state) for p in state.rglob("*") if p.is_file()}
    for p in sorted(target.rglob("*"), reverse=True):
        if p.is_file() and p.relative_to(target) not in wanted:
            p.unlink()
    for rel in wanted:
        dst = target / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        data = (state / rel).read_bytes()
        if not dst.exists() or dst.read_bytes() != data:
            dst.write_bytes(data)


def main(argv: list[str]) -> int:
    mode = argv[0]
    if mode == "ingest":
        args = argv[1:]
        delay = 0.0
        if "--delay" in args:
            i = args.index("--delay")
            delay = float(args[i + 1])
            del args[i:i + 2]
        index, paths = Path(args[0]), [Path(p) for p in args[1:]]
        embedder = ReportingEmbedder(delay)
        print("ready", flush=True)
        if not sys.stdin.readline():
            return 0  # the test no longer needs this worker
        report = ingest_paths(paths, index, embedder)
        print(f"done {report.passages}", flush=True)
        return 1 if report.errors else 0
    if mode == "alternate":
        index, target, seconds = Path(argv[1]), Path(argv[2]), float(argv[3])
        states = [Path(p) for p in argv[4:]]
        tiny = TinyEmbedder()
        print("ready", flush=True)
        deadline = time.monotonic() + seconds
        for i, state in cycle(enumerate(states)):
            if time.monotonic() > deadline:
                break
            mirror(state, target)
            ingest_paths([target], index, tiny)
            tiny.reset()  # the embedder keeps every call; do not let that grow for the whole run
            print(f"committed {i}", flush=True)
        return 0
    print(f"unknown mode {mode!r}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
