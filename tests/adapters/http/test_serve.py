"""`qa serve` as a real uvicorn process on a free loopback port: ask, search, sources, health, the JSON errors,
the token, the body limit, ids that are not indexed, and 50 concurrent questions all answered."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlparse

import pytest

from adapters.http.limits import MAX_BODY_BYTES
from qa.config import MODES
from tests.support.paths import ROOT
from tests.support.serve_process import Serving, request
from tests.support.slack_process import qa_env

QUESTION = "Who did Ruto call in January 2025?"
OUTSIDE = "What is the boiling point of mercury?"


@pytest.fixture(scope="module")
def served(seeds_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("serve-home")
    running = Serving(["--index", str(seeds_index)], qa_env(home))
    try:
        yield running.wait_ready()
    finally:
        assert running.stop() == 0
        assert "Traceback" not in "".join(running.lines)


def test_ask_returns_exactly_the_json_of_qa_ask(served: str, seeds_index: Path, tmp_path: Path) -> None:
    status, answer = request(served + "/api/ask", {"question": QUESTION})
    assert status == 200 and "Marco Rubio" in answer["answer"]
    cli = subprocess.run([sys.executable, "-m", "adapters", "ask", QUESTION, "--json", "--index", str(seeds_index)],
                         cwd=ROOT, env=qa_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert answer == json.loads(cli.stdout)


def test_follow_ups_use_the_history_and_abstentions_are_honest(served: str) -> None:
    status, follow = request(served + "/api/ask", {"question": "What did they say about Haiti?",
                                                   "history": [[QUESTION, "Marco Rubio"]], "view": "web"})
    assert status == 200 and "Rubio" in follow["asked_as"]
    assert all(c["source"].startswith(("seeds/003_", "seeds/004_")) for c in follow["citations"])
    status, out = request(served + "/api/ask", {"question": OUTSIDE})
    assert status == 200 and out["abstained"] is True and out["answer"] is None and out["citations"] == []
    # after the conversation too, with its turns as the page keeps them: nothing leaks into it
    turn = [follow["question"], follow["answer"], follow["asked_as"], follow["about"]]
    status, out = request(served + "/api/ask", {"question": OUTSIDE, "history": [[QUESTION, "Marco Rubio"], turn],
                                                "view": "web"})
    assert status == 200 and out["abstained"] is True and out["asked_as"] is None and out["citations"] == []


def test_search_sources_and_health(served: str) -> None:
    status, found = request(served + "/api/search?q=Haiti%20mission&k=4")
    assert status == 200 and len(found["passages"]) == 4 and all("Haiti" in p["text"] for p in found["passages"][:2])
    status, listing = request(served + "/api/sources")
    assert status == 200 and len(listing["sources"]) == 5
    first = found["passages"][0]
    status, article = request(served + f"/api/sources/{first['id']}")
    assert status == 200 and article["source"] == first["source"] and article["stale"] is False
    lines = {x["n"]: x["text"] for x in article["lines"]}
    assert first["text"] in lines[first["line_start"]]  # the cited line number is the article's line
    status, health = request(served + "/healthz")
    assert status == 200 and health["passages"] == 69 and health["model"] == "all-MiniLM-L6-v2"
    assert health["generation"].startswith("manifest-")
    status, spec = request(served + "/openapi.json")
    assert status == 200 and {"/api/ask", "/api/search", "/api/sources/{article_id}", "/healthz"} <= set(spec["paths"])


@pytest.mark.parametrize("article_id", ["0000000000000000", "..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd",
                                        "seeds%2F000_c1dbf43db722519f.txt"])
def test_only_indexed_articles_can_be_read(served: str, article_id: str) -> None:
    status, body = request(served + f"/api/sources/{article_id}")
    assert status == 404 and set(body) == {"error"}


@pytest.mark.parametrize(("body", "field", "says"), [
    ({"question": ""}, "question", "empty"),
    ({"question": "   "}, "question", "empty"),
    ({"question": "x" * 2500}, "question", "too long (2500 characters, at most 2000)"),
    ({"question": QUESTION, "k": 0}, "k", "k"),
    ({"question": QUESTION, "k": "3"}, "k", "k"),
    ({"question": QUESTION, "mode": "lexical"}, "mode", "mode"),
    ({"k": 3}, "question", "question"),
    ({"question": QUESTION, "history": "nope"}, "history", "history"),
    ({"question": QUESTION, "history": [["q", None]] * 7}, "history", "history"),
    ({"question": QUESTION, "colour": "blue"}, "colour", "colour"),
])
def test_bad_requests_are_refused_by_the_schema_with_the_field_named(served: str, body: dict, field: str,
                                                                     says: str) -> None:
    got, out = request(served + "/api/ask", body)
    assert got == 422 and out["field"] == field and set(out) == {"error", "field"}, out
    assert says in out["error"].lower(), out


def test_every_mode_of_the_core_is_served(served: str) -> None:
    for mode in MODES:
        status, answer = request(served + "/api/ask", {"question": QUESTION, "mode": mode})
        assert status == 200 and "Rubio" in answer["answer"], (mode, answer)


def test_malformed_json_wrong_methods_and_unknown_paths_are_json_errors(served: str) -> None:
    assert request(served + "/api/ask", raw=b'{"question": ')[0] == 422
    status, out = request(served + "/api/ask", method="GET")
    assert status == 405 and set(out) == {"error"}
    status, out = request(served + "/api/nothing-here")
    assert status == 404 and set(out) == {"error"}


def test_bodies_over_the_limit_are_refused_with_413(served: str) -> None:
    big = json.dumps({"question": QUESTION, "padding": "x" * MAX_BODY_BYTES}).encode()
    assert MAX_BODY_BYTES < len(big) < MAX_BODY_BYTES + 1024
    where = urlparse(served)
    # a Content-Length over the limit is refused before the body is read
    conn = http.client.HTTPConnection(where.hostname, where.port, timeout=30)
    conn.putrequest("POST", "/api/ask")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(len(big)))
    conn.endheaders()
    response = conn.getresponse()
    assert response.status == 413 and f"{MAX_BODY_BYTES // 1024} KB" in json.loads(response.read())["error"]
    conn.close()
    # the same body sent in chunks, with no Content-Length to trust
    conn = http.client.HTTPConnection(where.hostname, where.port, timeout=30)
    conn.putrequest("POST", "/api/ask")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    for i in range(0, len(big), 16 * 1024):
        piece = big[i:i + 16 * 1024]
        conn.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
    conn.send(b"0\r\n\r\n")
    response = conn.getresponse()
    assert response.status == 413 and "error" in json.loads(response.read())


def test_fifty_concurrent_questions_are_all_answered(served: str) -> None:
    questions = [QUESTION, "How much did the Biden administration pledge to the Haiti mission?"] * 25
    with ThreadPoolExecutor(50) as pool:
        results = list(pool.map(lambda q: request(served + "/api/ask", {"question": q}), questions))
    assert all(status == 200 for status, _ in results)
    assert all(("Rubio" if q == QUESTION else "38.5") in out["answer"] for q, (_, out) in zip(questions, results, strict=True))


def test_another_host_needs_a_token_and_the_token_is_checked(seeds_index: Path, tmp_path: Path) -> None:
    refused = subprocess.run([sys.executable, "-m", "adapters", "serve", "--host", "0.0.0.0", "--index",
                              str(seeds_index)], cwd=ROOT, env=qa_env(tmp_path), capture_output=True, text=True,
                             timeout=60)
    assert refused.returncode == 2 and refused.stderr.strip().splitlines() == [
        "error: serving on 0.0.0.0 (not loopback) needs a token: --token or QA_SERVE_TOKEN"]
    running = Serving(["--index", str(seeds_index)], {**qa_env(tmp_path), "QA_SERVE_TOKEN": "s3cret-token"})
    try:
        url = running.wait_ready()
        assert request(url + "/api/ask", {"question": QUESTION})[0] == 401
        assert request(url + "/api/ask", {"question": QUESTION}, headers={"Authorization": "Bearer nope"})[0] == 401
        assert request(url + "/api/sources", headers={"Authorization": "Basic s3cret-token"})[0] == 401
        status, out = request(url + "/api/ask", {"question": QUESTION},
                              headers={"Authorization": "Bearer s3cret-token"})
        assert status == 200 and "Rubio" in out["answer"]
    finally:
        assert running.stop() == 0
