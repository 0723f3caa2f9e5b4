"""The OpenAPI document is the API's true contract: typed models, the core's limits, every status the server
returns; and Schemathesis (`st run … --checks all`, bounded) finds nothing against a real uvicorn server on a
loopback port, over the seeds indexed with the tiny embedder (so it runs in seconds)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from adapters.http.app import create_app
from adapters.http.limits import MAX_BODY_BYTES
from adapters.http.models import (
    MAX_ABOUT_NAMES,
    MAX_ASKED_AS_CHARS,
    MAX_HISTORY_ANSWER_CHARS,
    MAX_NAME_CHARS,
    AskRequest,
)
from qa.bot import Bot
from qa.config import HISTORY_TURNS, MODES, resolve
from qa.index.local import ingest_paths
from qa.text.cleaning import MAX_QUESTION_CHARS
from tests.support.paths import SEEDS
from tests.support.tiny_embedder import TinyEmbedder
from tests.support.uvicorn_thread import serving

ST = Path(sys.executable).with_name("st")


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Bot:
    index = tmp_path_factory.mktemp("contract") / "idx"
    ingest_paths([SEEDS], index, TinyEmbedder())
    return Bot(resolve(index=index, reader="none"), embedder=TinyEmbedder())


@pytest.fixture(scope="module")
def spec(bot: Bot) -> dict[str, Any]:
    return dict(TestClient(create_app(bot)).get("/openapi.json").json())


@pytest.fixture(scope="module")
def url(bot: Bot) -> Iterator[str]:
    with serving(create_app(bot)) as base:
        yield base


def test_schemathesis_checks_all_find_no_failure(url: str, tmp_path: Path) -> None:
    run = subprocess.run([str(ST), "run", f"{url}/openapi.json", "--checks", "all", "--max-examples", "30",
                          "--workers", "1", "--seed", "24", "--request-timeout", "20", "--no-color"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert " passed" in run.stdout and "failure" not in run.stdout.split("SUMMARY")[-1]


def test_the_schema_states_the_limits_the_server_enforces(spec: dict[str, Any]) -> None:
    asked = spec["components"]["schemas"]["AskRequest"]
    question = asked["properties"]["question"]
    assert (question["minLength"], question["maxLength"]) == (1, MAX_QUESTION_CHARS)
    history = asked["properties"]["history"]
    assert history["maxItems"] == HISTORY_TURNS
    mode = next(x for x in asked["properties"]["mode"]["anyOf"] if x.get("type") == "string")
    assert tuple(mode["enum"]) == MODES
    k = next(x for x in asked["properties"]["k"]["anyOf"] if x.get("type") == "integer")
    assert (k["minimum"], k["maximum"]) == (1, 50)
    assert asked["additionalProperties"] is False


def test_every_response_is_typed_and_every_error_documented(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    assert {"Answer", "WebAnswer", "Citation", "Card", "Passage", "Article", "Sources", "Overview", "Health",
            "Error"} <= set(schemas)
    for name in ("Answer", "WebAnswer", "Citation", "Article", "Error"):
        assert schemas[name]["additionalProperties"] is False, name
    ops = {(path, method): op for path, item in spec["paths"].items() for method, op in item.items()}
    for (path, method), op in ops.items():
        codes = set(op["responses"])
        assert {"200", "405", "500", "503"} <= codes, (path, method, codes)
        assert op["responses"]["405"]["headers"]["Allow"], (path, method)
        for code, response in op["responses"].items():
            assert "$ref" in json.dumps(response["content"]["application/json"]["schema"]), (path, code)
    assert {"400", "413", "422"} <= set(ops["/api/ask", "post"]["responses"])
    assert {"404", "410"} <= set(ops["/api/sources/{article_id}", "get"]["responses"])
    assert "HTTPValidationError" not in schemas  # FastAPI's own 422 body, which this server never sends
    assert "securitySchemes" not in spec.get("components", {})  # no token: none asked for


def test_a_token_is_in_the_schema_and_a_405_names_the_allowed_methods(bot: Bot) -> None:
    client = TestClient(create_app(bot, token="s3cret"))
    spec = client.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert "401" in spec["paths"]["/api/ask"]["post"]["responses"]
    wrong = client.get("/api/ask")
    assert wrong.status_code == 405 and wrong.headers["allow"] == "POST"
    assert wrong.json() == {"error": "GET is not allowed here: this path takes POST"}


def test_the_largest_request_the_schema_accepts_fits_the_body_limit() -> None:
    widest = "\U0001f600"  # escaped by JSON as a surrogate pair: 12 bytes for one character
    body = {"question": widest * MAX_QUESTION_CHARS, "k": 50, "mode": MODES[0], "view": "json",
            "history": [[widest * MAX_QUESTION_CHARS, widest * MAX_HISTORY_ANSWER_CHARS,
                         widest * MAX_ASKED_AS_CHARS, [widest * MAX_NAME_CHARS] * MAX_ABOUT_NAMES]] * HISTORY_TURNS}
    AskRequest.model_validate(body)
    assert len(json.dumps(body, indent=1).encode()) < MAX_BODY_BYTES


def test_a_question_the_schema_accepts_is_never_refused_as_empty(bot: Bot) -> None:
    client = TestClient(create_app(bot))
    for question in ("\u00a0?\u2028", "\x07a\x7f", "\u202eé\u2066"):
        response = client.post("/api/ask", json={"question": question})
        assert response.status_code == 200, (question, response.json())
    for question in ("\u00a0\u2028 ", "\x1b[0m", "\u202e\u2066", "Who?\x1b]0;title\x07"):
        response = client.post("/api/ask", json={"question": question})
        assert response.status_code == 422 and response.json()["field"] == "question", question
