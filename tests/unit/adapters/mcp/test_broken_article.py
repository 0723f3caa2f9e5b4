"""An MCP client reading an article whose file has turned into a broken Word file gets one error naming the
reason, and the server logs one line for it, no traceback; the other articles stay readable."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from adapters.mcp.server import build_server
from qa.bot import Bot
from qa.config import resolve
from qa.index.local import ingest_paths
from tests.support.article_files import write_docx
from tests.support.hostile_files import GOOD_ARTICLE, docx_truncated_xml
from tests.support.tiny_embedder import TinyEmbedder


def test_a_broken_article_is_one_error_and_one_log_line(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_docx(corpus / "brief.docx")
    (corpus / "wind.txt").write_text(GOOD_ARTICLE, encoding="utf-8")
    ingest_paths([corpus], tmp_path / "idx", TinyEmbedder())
    bot = Bot(resolve(index=tmp_path / "idx", reader="none"), embedder=TinyEmbedder())
    server = build_server(bot)
    ids = {Path(r.source).name: i for i, r in bot.articles().items()}
    docx_truncated_xml(corpus / "brief.docx")
    caplog.set_level(logging.INFO)
    with pytest.raises(Exception) as err:
        asyncio.run(server.read_resource(f"article://{ids['brief.docx']}"))
    assert "not a readable Word document (XMLSyntaxError" in str(err.value) and "\n" not in str(err.value)
    said = [r for r in caplog.records if r.name.startswith("mcp")]
    assert len(said) == 1 and said[0].exc_info is None and "\n" not in said[0].getMessage()
    [wind] = asyncio.run(server.read_resource(f"article://{ids['wind.txt']}"))
    assert "Lake Turkana wind farm" in str(wind.content)
