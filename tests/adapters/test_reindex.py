"""`/reindex` in the chat (`Bot.reindex`) re-ingests the files and folders the open index was built from, for the
local index and PostgreSQL alike, and never anything else: the bundled seeds or the configured corpus never enter
a user's own index."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from qa.bot import Bot
from qa.config import resolve
from qa.errors import SourceError
from qa.index.local import open_index
from tests.support.paths import SEEDS
from tests.support.tiny_embedder import TinyEmbedder

ARTICLE = ("Naivasha marathon ends in a sprint finish\n\nThe Lake Naivasha marathon in 2025 was won by Wanjiru "
           "Kamau, who finished in two hours and eleven minutes.\n")


@pytest.mark.parametrize("store", ["local", "postgres"])
def test_reindex_reads_again_what_the_index_was_built_from_and_nothing_else(store: str, tmp_path: Path,
                                                                          request: pytest.FixtureRequest) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    shutil.copy(next(SEEDS.glob("000_*.txt")), mine / "talks.txt")
    if store == "local":
        settings = resolve(index=tmp_path / "idx", corpus=SEEDS, reader="none")
    else:
        pytest.importorskip("psycopg", reason="the postgres extra is not installed")
        settings = resolve(store=request.getfixturevalue("pg_database"), corpus=SEEDS, reader="none")
    bot = Bot(settings, embedder=TinyEmbedder())
    assert [Path(s).name for s in bot.ingest([mine]).added] == ["talks.txt"]
    (mine / "marathon.txt").write_text(ARTICLE, encoding="utf-8")
    report = bot.reindex()
    assert [Path(s).name for s in report.added] == ["marathon.txt"] and report.errors == []
    assert sorted(Path(r.source).name for r in bot.articles().values()) == ["marathon.txt", "talks.txt"]  # no seeds


def test_reindex_of_an_index_that_records_nothing_says_so_and_adds_nothing(tmp_path: Path) -> None:
    bot = Bot(resolve(index=tmp_path / "idx", corpus=SEEDS, reader="none"), embedder=TinyEmbedder())
    bot.ingest([SEEDS / "001_3f7c58d4eaf15709.txt"])
    manifest = next((tmp_path / "idx").glob("manifest-*.json"))
    before = open_index(tmp_path / "idx").documents()
    # as an index written before it recorded its paths reads (its manifest is pinned by the checksum in its name)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("qa.index.local.store.IndexData.paths", lambda self: [])
        with pytest.raises(SourceError, match="does not record what it was built from"):
            bot.reindex()
    assert open_index(tmp_path / "idx").documents() == before and manifest.exists()
