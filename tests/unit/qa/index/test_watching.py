"""What `qa watch` reads after the file system reports a change: the folders it knows, and the whole of a new
folder whose first files were never reported."""

from __future__ import annotations

from pathlib import Path

from qa.index.watching import folders_under, with_new_folders


def test_a_new_folder_is_read_whole_even_when_its_first_files_were_never_reported(tmp_path: Path) -> None:
    """inotify watches a new folder only once it has seen it: files written into it before then are never
    reported. The watcher reads the whole new folder whenever something under it is reported."""
    root = tmp_path / "articles"
    (root / "old").mkdir(parents=True)
    known = folders_under([root])
    (root / "new" / "deeper").mkdir(parents=True)
    reported = {root / "new" / "deeper" / "late.txt", root / "old" / "edited.txt"}
    assert with_new_folders(reported, known) == reported | {root / "new"}
    assert with_new_folders({root / "old" / "edited.txt"}, known) == {root / "old" / "edited.txt"}


def test_hidden_folders_are_not_watched_for_new_folders(tmp_path: Path) -> None:
    root = tmp_path / "articles"
    (root / "kept" / "inner").mkdir(parents=True)
    (root / ".git" / "objects").mkdir(parents=True)
    assert folders_under([root]) == {root, root / "kept", root / "kept" / "inner"}
