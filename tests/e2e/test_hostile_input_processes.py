"""Hostile input to the real commands, each a process with the real model: questions whose bytes are not
UTF-8, as an argument and piped into `qa ask` and `qa repl`; a request `qa serve` cannot even parse, a body
that is not JSON and an article whose file turned bad, over loopback HTTP. One line each, never a
traceback, and the good questions around them are answered."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from qa.config import DEFAULT_MODEL
from qa.embedding import ensure_export
from tests.support.article_files import write_docx
from tests.support.hostile_files import docx_truncated_xml
from tests.support.paths import ROOT
from tests.support.serve_process import Serving, request

pytestmark = pytest.mark.e2e
QA = os.fsencode(Path(sys.executable).parent / "qa")
PLEDGE = b"How much did the Biden administration pledge to the Haiti mission?"


def env() -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "200", "NO_COLOR": "1"}


@pytest.fixture(scope="module", autouse=True)
def onnx_ready(_shared_cache: Path) -> None:
    """The model's ONNX export in the session's cache, as after any ingest: questions then load in a second."""
    ensure_export(DEFAULT_MODEL, "onnx", _shared_cache / "qa")


def test_qa_ask_answers_an_argument_whose_bytes_are_not_utf8(seeds_index: Path) -> None:
    asked = PLEDGE.replace(b"Haiti", b"Ha\xefti")  # a Latin-1 terminal's ï
    proc = subprocess.run([QA, b"ask", b"--json", b"--index", os.fsencode(seeds_index), asked], cwd=ROOT,
                          env=env(), capture_output=True, timeout=300)
    assert proc.returncode == 0 and b"Traceback" not in proc.stderr, proc.stderr
    said = json.loads(proc.stdout)
    assert said["question"].endswith("Ha\ufffdti mission?") and "38.5 billion" in said["answer"]


@pytest.mark.parametrize("command", [b"ask", b"repl"])
def test_piped_questions_after_a_line_of_bad_bytes_are_answered(seeds_index: Path, command: bytes) -> None:
    piped = b"\xff\xfe what \xe9?\n" + PLEDGE + b"\n"
    proc = subprocess.run([QA, command, b"--index", os.fsencode(seeds_index)], cwd=ROOT, env=env(), input=piped,
                          capture_output=True, timeout=300)
    assert b"Traceback" not in proc.stderr, proc.stderr
    assert b"38.5 billion" in proc.stdout, (proc.stdout, proc.stderr)


def test_qa_serve_answers_what_it_cannot_parse_in_json_and_a_broken_article_with_410(
        tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    write_docx(folder / "brief.docx")
    index = tmp_path / "idx"
    subprocess.run([QA, b"ingest", os.fsencode(folder), b"--index", os.fsencode(index)], cwd=ROOT, env=env(),
                   capture_output=True, timeout=300, check=True)
    server = Serving(["--index", str(index)], env())
    try:
        url = server.wait_ready()
        where = urlsplit(url)
        with socket.create_connection((where.hostname, where.port), timeout=10) as s:
            s.sendall(b"\x16\x03\x01 not HTTP at all\r\n\r\n")
            reply = s.makefile("rb").read()
        head, _, body = reply.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 400") and b"application/json" in head.lower()
        assert json.loads(body)["error"].startswith("malformed HTTP request")
        status, said = request(f"{url}/api/ask", raw=b'{"question": "Who?",}')
        assert status == 422 and said["error"].startswith("body is not JSON: ")
        [article] = request(f"{url}/api/sources")[1]["sources"]
        docx_truncated_xml(folder / "brief.docx")
        status, said = request(f"{url}/api/sources/{article['id']}")
        assert status == 410 and "not a readable Word document" in said["error"]
    finally:
        assert server.stop() == 0
    log = "".join(server.lines)
    assert "Traceback" not in log, log
