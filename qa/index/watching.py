"""Watching folders of articles (watchfiles): the changed files of each burst, once each has stopped growing,
so that a file being copied in is read whole and a hundred new files make a few ingests, not a hundred."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Generator
from pathlib import Path

from qa.documents.files import is_index_folder

# watchfiles gathers changes until none has come for STEP_MS (or DEBOUNCE_MS have passed), then hands
# over the burst; SETTLE_S more with no change in size or modification time and a file is taken as written.
STEP_MS = 300
DEBOUNCE_MS = 1600
SETTLE_S = 0.3
MAX_SETTLE_S = 30.0  # a file still growing after this is read as it is; its next change brings another event


def _hidden(path: Path, roots: list[Path]) -> bool:
    """A hidden file or one inside a hidden folder or an index, below the watched folders."""
    for root in roots:
        if path == root or root in path.parents:
            rel = path.relative_to(root).parts
            if any(part.startswith(".") or part.endswith("~") for part in rel):
                return True
            return any(is_index_folder(root.joinpath(*rel[:i])) for i in range(1, len(rel)))
    return False


def _signature(path: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_size, info.st_mtime_ns


def wait_until_settled(paths: set[Path], settle_s: float = SETTLE_S, max_s: float = MAX_SETTLE_S) -> None:
    """Return once none of `paths` has changed size or modification time for `settle_s` (or after `max_s`)."""
    deadline = time.monotonic() + max_s
    last = {p: _signature(p) for p in paths}
    while time.monotonic() < deadline:
        time.sleep(settle_s)
        now = {p: _signature(p) for p in paths}
        if now == last:
            return
        last = now


def folders_under(roots: list[Path]) -> set[Path]:
    """Every folder under `roots` (hidden ones and indexes left out), the roots included."""
    found = set()
    for root in roots:
        for folder, subfolders, _ in os.walk(root):
            found.add(Path(folder))
            subfolders[:] = [d for d in subfolders if not d.startswith(".") and not is_index_folder(Path(folder, d))]
    return found


def with_new_folders(files: set[Path], known: set[Path]) -> set[Path]:
    """`files` plus the outermost new folder above each of them. A folder made and filled at once (copied
    in, unpacked) is reported late by the file system: the files written before it was watched are never
    reported, so the whole new folder is read."""
    out = set(files)
    for path in files:
        parent, newest = path.parent, None
        while parent not in known and parent != parent.parent:
            newest, parent = parent, parent.parent
        if newest is not None and parent in known and newest.is_dir():
            out.add(newest)
    return out


def watch_changes(paths: list[Path], stop: threading.Event | None = None,
                  ignore: list[Path] | None = None) -> Generator[set[Path], None, None]:
    """The files and folders under `paths` that were added, changed, deleted or renamed, burst by burst,
    each burst once its files have settled. The first item is an empty set, as soon as the watching has
    begun: what is written from then on is reported. Hidden files, editors' backups and any local index
    inside the folders (or under `ignore`) are left out. Ends when `stop` is set; Ctrl-C raises
    KeyboardInterrupt."""
    import watchfiles  # only needed by `qa watch`

    roots = [p.resolve() for p in paths]
    ignored = [p.resolve() for p in ignore or []]

    def wanted(_change: watchfiles.Change, raw: str) -> bool:
        path = Path(raw)
        return not _hidden(path, roots) and not any(path == i or i in path.parents for i in ignored)

    known: set[Path] | None = None
    for changes in watchfiles.watch(*roots, watch_filter=wanted, debounce=DEBOUNCE_MS, step=STEP_MS,
                                    stop_event=stop, rust_timeout=200, yield_on_timeout=True):
        if known is None:  # the watcher is running: note the folders there are, then say so
            known = folders_under(roots)
            yield set()
        if not changes:
            continue
        files = with_new_folders({Path(raw) for _, raw in changes}, known)
        known |= folders_under([f for f in files if f.is_dir()])
        wait_until_settled(files)
        yield files
