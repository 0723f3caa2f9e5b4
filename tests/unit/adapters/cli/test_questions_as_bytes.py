"""`qa ask` with questions that are not UTF-8, as an argument and piped: each is answered (or refused in one
line) and the piped questions after it are answered too; and file names that are not UTF-8 or hold bidi
controls, shown escaped by `qa ingest` and in answers."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from adapters import main as cli
from adapters.cli import commands
from qa.bot import Bot
from qa.index.local import ingest_paths
from tests.support.hostile_files import BIDI_NAME, GOOD_ARTICLE, not_utf8_name
from tests.support.paths import SEEDS
from tests.support.tiny_embedder import TinyEmbedder

PLEDGE = b"How much did the Biden administration pledge to the Haiti mission?"


class _Piped(io.TextIOWrapper):
    def isatty(self) -> bool:
        return False


@pytest.fixture
def index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(commands, "Bot", lambda settings: Bot(settings.with_(reader="none"), embedder=TinyEmbedder()))
    ingest_paths([SEEDS], tmp_path / "idx", TinyEmbedder())
    return tmp_path / "idx"


def test_an_argument_with_bytes_that_are_not_utf8_is_answered(index: Path, capsys: pytest.CaptureFixture[str]) -> None:
    asked = os.fsdecode(PLEDGE.replace(b"Haiti", b"Ha\xefti"))  # a Latin-1 terminal's ï, as argv gives it
    assert cli.main(["ask", "--json", "--index", str(index), asked]) == 0
    said = json.loads(capsys.readouterr().out)
    assert said["question"].endswith("Ha\ufffdti mission?") and said["citations"]


def test_piped_questions_after_a_line_of_bad_bytes_are_answered(index: Path, monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    lines = [b"\xff\xfe\xfd caf\xe9?", b"\x1b[31m\xe2\x80\xae", PLEDGE]
    monkeypatch.setattr("sys.stdin", _Piped(io.BytesIO(b"\n".join(lines) + b"\n")))
    status = cli.main(["ask", "--json", "--index", str(index)])
    out, err = capsys.readouterr()
    answers = [json.loads(line) for line in out.splitlines()]
    assert [a["question"] for a in answers] == ["\ufffd\ufffd\ufffd caf\ufffd?", PLEDGE.decode()]
    assert err.startswith("error: the question is empty") and len(err.splitlines()) == 1  # only escapes and bidi
    assert status == 1 and "Traceback" not in err


def test_names_with_bidi_controls_or_bytes_that_are_not_utf8_are_shown_escaped(
        tmp_path: Path, index: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "names"
    folder.mkdir()
    not_utf8_name(folder)
    (folder / BIDI_NAME).write_text(GOOD_ARTICLE.replace("Lake Turkana", "Lake Naivasha"), encoding="utf-8")
    assert cli.main(["ingest", str(folder), "--index", str(index)]) == 0
    out = capsys.readouterr().out
    assert "caf\\xe9-news.txt" in out and "invoice\\u202etxt.exe.txt" in out and "\u202e" not in out
    assert cli.main(["ask", "--json", "--index", str(index), "What did the Lake Naivasha wind farm produce?"]) == 0
    said = json.loads(capsys.readouterr().out)
    assert said["citations"][0]["source"].endswith("invoice\\u202etxt.exe.txt")
