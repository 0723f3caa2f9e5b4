"""An index keeps each document's hash under the passage rules it was cut by: when the rules change, the next
ingest reads every document again, so no index keeps passages cut by old rules (a summary box kept, say)."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.documents import model
from qa.index.local import ingest_paths
from tests.support.paths import SEEDS
from tests.support.tiny_embedder import TinyEmbedder


def test_new_passage_rules_make_the_next_ingest_read_every_document_again(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    index = tmp_path / "idx"
    monkeypatch.setattr(model, "PASSAGE_RULES", "an older version")
    assert len(ingest_paths([SEEDS], index, TinyEmbedder()).added) == 5
    monkeypatch.undo()
    report = ingest_paths([SEEDS], index, TinyEmbedder())
    assert len(report.updated) == 5 and not report.added
    again = ingest_paths([SEEDS], index, TinyEmbedder())
    assert not again.changed and len(again.skipped) == 5  # and then they are current
