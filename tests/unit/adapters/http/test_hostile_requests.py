"""The HTTP API with broken or hostile input, in process (the ASGI app itself): a body that is not JSON is named
as such, with where it breaks; a bug is a JSON 500 whose id is in the one log line about it; an indexed file
that has turned into a broken one is a 410 with its reason; names that are not UTF-8 are shown escaped."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from adapters.http.app import create_app
from qa.bot import Bot
from qa.config import resolve
from qa.index.local import ingest_paths
from tests.support.article_files import write_docx
from tests.support.hostile_files import docx_truncated_xml, not_utf8_name
from tests.support.tiny_embedder import TinyEmbedder


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    write_docx(folder / "brief.docx")
    not_utf8_name(folder)
    return folder


@pytest.fixture
def bot(corpus: Path, tmp_path: Path) -> Bot:
    ingest_paths([corpus], tmp_path / "idx", TinyEmbedder())
    return Bot(resolve(index=tmp_path / "idx", reader="none"), embedder=TinyEmbedder())


@pytest.fixture
def client(bot: Bot) -> TestClient:
    return TestClient(create_app(bot), raise_server_exceptions=False)


def test_a_body_that_is_not_json_is_named_with_where_it_breaks(client: TestClient) -> None:
    response = client.post("/api/ask", content=b'{"question": "x" "k": 3}',
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json() == {"error": "body is not JSON: expecting ',' delimiter at line 1 column 18", "field": "body"}
    response = client.post("/api/ask", content=b'{\n  "question":\n}', headers={"Content-Type": "application/json"})
    assert response.json() == {"error": "body is not JSON: expecting value at line 3 column 1", "field": "body"}


def test_a_bug_is_one_log_line_whose_id_the_json_error_repeats(bot: Bot, client: TestClient,
                                                              monkeypatch: pytest.MonkeyPatch,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug\nover two lines")

    monkeypatch.setattr(bot, "ask", broken)
    caplog.set_level(logging.INFO)
    response = client.post("/api/ask", json={"question": "Who signed?"})
    assert response.status_code == 500
    error_id = response.json()["id"]
    assert response.json()["error"] == f"internal error (id {error_id})"
    lines = [r for r in caplog.records if r.levelno >= logging.INFO and r.name.startswith(("qa", "uvicorn"))]
    assert len(lines) == 1 and error_id in lines[0].getMessage() and "\n" not in lines[0].getMessage()
    assert lines[0].exc_info is None  # the traceback is for DEBUG
    caplog.clear()
    caplog.set_level(logging.DEBUG, logger="qa.serve")
    client.post("/api/ask", json={"question": "Who signed?"})
    assert any(r.exc_info for r in caplog.records if r.levelno == logging.DEBUG)


def test_an_indexed_file_that_turned_into_a_broken_one_is_410_with_its_reason(
        bot: Bot, client: TestClient, corpus: Path) -> None:
    [brief] = [i for i, r in bot.articles().items() if r.source.endswith("brief.docx")]
    assert client.get(f"/api/sources/{brief}").status_code == 200
    shutil.copy(docx_truncated_xml(corpus.parent / "cut.docx"), corpus / "brief.docx")
    response = client.get(f"/api/sources/{brief}")
    assert response.status_code == 410
    assert response.json()["error"].startswith("the article's file can no longer be read (not a readable Word "
                                               "document (XMLSyntaxError")
    assert str(corpus) not in response.json()["error"]


def test_a_name_that_is_not_utf8_is_listed_and_cited_escaped(bot: Bot, client: TestClient) -> None:
    sources = client.get("/api/sources").json()["sources"]
    assert sorted(Path(s["source"]).name for s in sources) == ["brief.docx", "caf\\xe9-news.txt"]
    [cafe] = [s["id"] for s in sources if s["source"].endswith("news.txt")]
    assert client.get(f"/api/sources/{cafe}").json()["lines"][2]["text"].startswith("The Lake Turkana wind farm")
    said = client.post("/api/ask", json={"question": "How much did the Lake Turkana wind farm produce?"}).json()
    assert said["citations"][0]["source"].endswith("caf\\xe9-news.txt")
