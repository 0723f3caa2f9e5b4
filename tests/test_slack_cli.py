"""`qa slack` as a user runs it: configuration errors are one line naming the variable, and the
HTTP mode serves a real answer end to end through SLACK_API_URL."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_api_server import SlackAPIServer

from adapters.slack_app import LRU, Seen, read_config
from qa.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
SECRET = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"


def qa_env(tmp_path: Path, **slack: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "QA_"))}
    env.update(HF_HUB_OFFLINE="1", XDG_DATA_HOME=str(tmp_path / "data"), XDG_STATE_HOME=str(tmp_path / "state"),
               PYTHONUNBUFFERED="1", COLUMNS="200", **slack)
    return env


def run_qa(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "adapters.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)


@pytest.mark.parametrize(("args", "env", "variable"), [
    (["slack"], {}, "SLACK_BOT_TOKEN is not set"),
    (["slack"], {"SLACK_BOT_TOKEN": "xoxp-123-user-token"}, "SLACK_BOT_TOKEN is malformed"),
    (["slack"], {"SLACK_BOT_TOKEN": "xoxb-123"}, "SLACK_APP_TOKEN is not set"),
    (["slack"], {"SLACK_BOT_TOKEN": "xoxb-123", "SLACK_APP_TOKEN": "xoxb-123"}, "SLACK_APP_TOKEN is malformed"),
    (["slack", "--http"], {"SLACK_BOT_TOKEN": "xoxb-123"}, "SLACK_SIGNING_SECRET is not set"),
    (["slack", "--http"], {"SLACK_BOT_TOKEN": "xoxb-123", "SLACK_SIGNING_SECRET": "not hex!"},
     "SLACK_SIGNING_SECRET is malformed"),
    (["slack", "--http"], {"SLACK_BOT_TOKEN": "xoxb-123", "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": "slack.com"},
     "SLACK_API_URL is malformed"),
])
def test_bad_configuration_is_a_one_line_error_naming_the_variable(tmp_path: Path, args: list[str],
                                                                   env: dict[str, str], variable: str) -> None:
    proc = run_qa(args, qa_env(tmp_path, **env))
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and variable in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_a_token_slack_rejects_is_a_one_line_error(tmp_path: Path) -> None:
    with SlackAPIServer() as api:
        api.errors["auth.test"] = "invalid_auth"
        proc = run_qa(["slack", "--http", "--port", "0"], qa_env(
            tmp_path, SLACK_BOT_TOKEN="xoxb-revoked", SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=api.url))
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "SLACK_BOT_TOKEN was rejected by Slack" in lines[0] and "invalid_auth" in lines[0]


def test_read_config_accepts_good_settings() -> None:
    cfg = read_config({"SLACK_BOT_TOKEN": " xoxb-1-2 \n", "SLACK_APP_TOKEN": "xapp-1-A-3"})
    assert (cfg.bot_token, cfg.app_token, cfg.signing_secret, cfg.api_url) == \
        ("xoxb-1-2", "xapp-1-A-3", None, "https://slack.com/api/")
    cfg = read_config({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": SECRET,
                       "SLACK_API_URL": "http://127.0.0.1:9/api"}, http=True)
    assert cfg.api_url == "http://127.0.0.1:9/api/" and cfg.app_token is None and cfg.signing_secret == SECRET
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN"):
        read_config({"SLACK_BOT_TOKEN": "xoxb-"})


def test_memory_is_bounded() -> None:
    lru: LRU[int, int] = LRU(3)
    for i in range(10):
        lru.put(i, i)
    assert len(lru) == 3 and lru.get(0) is None and lru.get(9) == 9
    seen = Seen(2)
    assert seen.add_new("a") and not seen.add_new("a") and seen.add_new("b", "c") and not seen.add_new("z", "c")


@pytest.fixture
def api() -> Iterator[SlackAPIServer]:
    with SlackAPIServer() as server:
        yield server


def test_qa_slack_http_answers_a_signed_mention(tmp_path: Path, seeds_index: Path, api: SlackAPIServer) -> None:
    env = qa_env(tmp_path, SLACK_BOT_TOKEN="xoxb-e2e", SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=api.url)
    proc = subprocess.Popen([sys.executable, "-m", "adapters.cli", "slack", "--http", "--port", "0",
                             "--index", str(seeds_index)], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)
            if "Answering Slack at" in line:
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        assert ready.wait(60), "".join(lines)
        url = next(x for x in lines if "Answering Slack at" in x).split()[3].replace("0.0.0.0", "127.0.0.1")
        body = json.dumps({"type": "event_callback", "event_id": "EvE2E", "team_id": "T0TEAM", "event": {
            "type": "app_mention", "user": "U0ANN", "text": "<@U0BOT> Who did Ruto call in January 2025?",
            "ts": "1712000000.000100", "channel": "C0E2E"}})
        ts = str(int(time.time()))
        sig = "v0=" + hmac.new(SECRET.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
        req = urllib.request.Request(url, data=body.encode(), method="POST", headers={
            "Content-Type": "application/json", "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig})
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert resp.status == 200
        [reply] = api.wait_for("chat.postMessage")
        assert reply.token == "xoxb-e2e" and reply.params["thread_ts"] == "1712000000.000100"
        assert "Rubio" in reply.params["text"]
        assert api.calls_to("auth.test")
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(30)
    assert rc == 0
    assert "Traceback" not in "".join(lines)
