"""`--store postgresql://…` in every command, against a real PostgreSQL (pgserver): `qa ingest`, `qa ask`,
`qa repl`, `qa eval` and `qa slack` all use the database, never the local index, and print no Python warning."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.paths import DATA, ROOT, SEEDS
from tests.support.slack_fake.webapi import SlackAPIServer
from tests.support.slack_process import SECRET, Running, qa_env, signed_mention

pytest.importorskip("psycopg", reason="the postgres extra is not installed: pip install -e '.[postgres]'")

QUESTION = "Who did Ruto call in January 2025?"


def qa(args: list[str], env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "adapters", *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """No local index anywhere: a command that fell back to one would fail or build it under tmp_path."""
    return qa_env(tmp_path)


@pytest.fixture
def store(pg_database: str, env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """A fresh database with the seeds ingested by `qa ingest --store` (the real model)."""
    done = qa(["ingest", str(SEEDS), "--store", pg_database], env)
    assert done.returncode == 0, done.stderr
    assert "5 added, 0 updated, 0 removed, 0 unchanged" in done.stdout
    assert done.stderr == ""  # no progress bar off a terminal, and no warning
    yield pg_database
    assert not (tmp_path / "data" / "qa" / "index").exists()  # nothing went to the local index


def test_ingest_and_ask(store: str, env: dict[str, str]) -> None:
    done = qa(["ask", QUESTION, "--json", "--store", store], env)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    answer = json.loads(done.stdout)
    assert "Rubio" in answer["answer"] and answer["citations"][0]["source"].endswith(("003_d110ed1a2ec45713.txt",
                                                                                      "004_94dbf8c078f1a21a.txt"))
    again = qa(["ingest", str(SEEDS), "--store", store], env)
    assert again.returncode == 0 and "0 added, 0 updated, 0 removed, 5 unchanged" in again.stdout


def test_ingest_refuses_another_backend_in_one_line(store: str, env: dict[str, str]) -> None:
    done = qa(["ingest", str(SEEDS), "--store", store, "--backend", "onnx-int8"], env)
    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert line.startswith("error: PostgreSQL database") and "was built with the onnx backend, not onnx-int8" in line


def test_repl(store: str, env: dict[str, str]) -> None:
    done = qa(["repl", "--store", store], env, stdin=f"{QUESTION}\n/quit\n")
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert "Rubio" in done.stdout and "[1] seeds/00" in done.stdout


def test_repl_on_an_empty_database_is_one_line(pg_database: str, env: dict[str, str]) -> None:
    done = qa(["repl", "--store", pg_database], env, stdin=f"{QUESTION}\n")
    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert line.startswith("error: no qa store in PostgreSQL database") and "qa ingest" in line


def test_eval(store: str, env: dict[str, str]) -> None:
    done = qa(["eval", str(DATA / "seeds_questions.jsonl"), "--store", store, "--reader", "none"],
              {**env, "COLUMNS": "200"})
    assert done.returncode == 0, done.stderr
    title = done.stdout.splitlines()[0]
    assert "on the PostgreSQL database" in title
    row = next(line for line in done.stdout.splitlines() if "hybrid, no reader" in line)
    assert row.split("│")[2].strip() == "0.917"  # hit@1: the local index's figure on the same questions


def test_slack(store: str, tmp_path: Path) -> None:
    with SlackAPIServer() as api:
        env = qa_env(tmp_path, SLACK_BOT_TOKEN="xoxb-store", SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=api.url)
        running = Running(["--http", "--port", "0", "--store", store], env, "Answering Slack at")
        try:
            url = running.wait_ready().split()[3].replace("0.0.0.0", "127.0.0.1")
            assert signed_mention(url, QUESTION, "C0STORE", "EvSTORE1") == 200
            [reply] = api.wait_for("chat.postMessage")
            assert "Rubio" in reply.params["text"]
        finally:
            rc = running.stop()
    assert rc == 0
    assert not [line for line in running.lines if "Warning" in line or "Traceback" in line]
