"""`qa slack` as a user runs it: configuration errors are one line naming the variable, and the
HTTP mode serves a real answer end to end through SLACK_API_URL."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.main import main
from adapters.slack.config import read_config
from adapters.slack.memory import LRU, Seen
from qa.errors import ConfigError
from tests.support.paths import ROOT
from tests.support.slack_fake.socket_mode import SocketModeServer
from tests.support.slack_fake.webapi import SlackAPIServer
from tests.support.slack_process import SECRET, Running, qa_env, signed_mention


def run_qa(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "adapters", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)


def test_qa_slack_without_a_token_is_a_one_line_error(tmp_path: Path) -> None:
    proc = run_qa(["slack"], qa_env(tmp_path))
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        "error: SLACK_BOT_TOKEN is not set: export your Slack app's Bot User OAuth Token (xoxb-…), "
        "from OAuth & Permissions"]
    assert proc.stdout == ""


@pytest.mark.parametrize(("args", "env", "variable"), [
    (["slack"], {"SLACK_BOT_TOKEN": "xoxp-123-user-token"}, "SLACK_BOT_TOKEN is malformed"),
    (["slack"], {"SLACK_BOT_TOKEN": "xoxb-123"}, "SLACK_APP_TOKEN is not set"),
    (["slack"], {"SLACK_BOT_TOKEN": "xoxb-123", "SLACK_APP_TOKEN": "xoxb-123"}, "SLACK_APP_TOKEN is malformed"),
    (["slack", "--http"], {"SLACK_BOT_TOKEN": "xoxb-123"}, "SLACK_SIGNING_SECRET is not set"),
    (["slack", "--http"], {"SLACK_BOT_TOKEN": "xoxb-123", "SLACK_SIGNING_SECRET": "not hex!"},
     "SLACK_SIGNING_SECRET is malformed"),
    (["slack", "--http"], {"SLACK_BOT_TOKEN": "xoxb-123", "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": "slack.com"},
     "SLACK_API_URL is malformed"),
    (["slack", "--http", "--port", "70000"], {"SLACK_BOT_TOKEN": "xoxb-123", "SLACK_SIGNING_SECRET": SECRET}, "--port"),
    (["slack", "--http"], {"SLACK_BOT_TOKEN": "xoxb-123", "SLACK_SIGNING_SECRET": SECRET, "QA_SLACK_LOG_LEVEL": "loud"},
     "QA_SLACK_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR"),
])
def test_bad_configuration_is_a_one_line_error_naming_the_variable(monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str], args: list[str],
                                                                   env: dict[str, str], variable: str) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_API_URL", "QA_SLACK_LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(args) == 1
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and variable in lines[0], err
    assert out == ""
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"):  # named, never shown
        assert name not in env or env[name] not in err


def test_a_token_slack_rejects_is_a_one_line_error(tmp_path: Path) -> None:
    with SlackAPIServer() as api:
        api.errors["auth.test"] = "invalid_auth"
        proc = run_qa(["slack", "--http", "--port", "0"], qa_env(
            tmp_path, SLACK_BOT_TOKEN="xoxb-revoked", SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=api.url))
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "SLACK_BOT_TOKEN was rejected by Slack" in lines[0] and "invalid_auth" in lines[0]
    assert "xoxb-revoked" not in proc.stderr and SECRET not in proc.stderr


def test_an_api_nobody_answers_is_a_one_line_error(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port that was free a moment ago: connections to it are refused
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}/api/"
    proc = run_qa(["slack", "--http", "--port", "0"], qa_env(
        tmp_path, SLACK_BOT_TOKEN="xoxb-unheard", SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=url))
    assert proc.returncode == 1
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith(f"error: cannot reach the Slack API at {url}: ") and "Connection refused" in line


def test_read_config_accepts_good_settings() -> None:
    cfg = read_config({"SLACK_BOT_TOKEN": " xoxb-1-2 \n", "SLACK_APP_TOKEN": "xapp-1-A-3"})
    assert (cfg.bot_token, cfg.app_token, cfg.signing_secret, cfg.api_url) == \
        ("xoxb-1-2", "xapp-1-A-3", None, "https://slack.com/api/")
    cfg = read_config({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": SECRET,
                       "SLACK_API_URL": "http://127.0.0.1:9/api"}, http=True)
    assert cfg.api_url == "http://127.0.0.1:9/api/" and cfg.app_token is None and cfg.signing_secret == SECRET
    assert cfg.log_level == logging.WARNING
    cfg = read_config({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1", "QA_SLACK_LOG_LEVEL": " debug "})
    assert cfg.log_level == logging.DEBUG
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


def test_qa_slack_http_acknowledges_at_once_and_answers_once_loaded(tmp_path: Path, seeds_index: Path,
                                                                     api: SlackAPIServer) -> None:
    """Slack allows 3 s for an acknowledgement: an event sent the moment the port is open (the model still
    loading) is acknowledged within it, and answered once the model is loaded."""
    env = qa_env(tmp_path, SLACK_BOT_TOKEN="xoxb-e2e", SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=api.url)
    running = Running(["--http", "--port", "0", "--index", str(seeds_index)], env, "Listening at")
    try:
        line = running.wait_ready()
        url = line.split()[2].rstrip(";").replace("0.0.0.0", "127.0.0.1")
        body = json.dumps({"type": "event_callback", "event_id": "EvE2E", "team_id": "T0TEAM", "event": {
            "type": "app_mention", "user": "U0ANN", "text": "<@U0BOT> Who did Ruto call in January 2025?",
            "ts": "1712000000.000100", "channel": "C0E2E"}})
        ts = str(int(time.time()))
        sig = "v0=" + hmac.new(SECRET.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
        req = urllib.request.Request(url, data=body.encode(), method="POST", headers={
            "Content-Type": "application/json", "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig})
        sent = time.monotonic()
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert resp.status == 200
        assert time.monotonic() - sent < 3.0
        [reply] = api.wait_for("chat.postMessage")
        assert reply.token == "xoxb-e2e" and reply.params["thread_ts"] == "1712000000.000100"
        assert "Rubio" in reply.params["text"]
        assert api.calls_to("auth.test")
        assert any("Answering Slack at" in x for x in running.lines)
    finally:
        rc = running.stop()
    assert rc == 0
    assert "Traceback" not in "".join(running.lines)


def test_qa_slack_logs_a_failed_reply_as_one_line_without_secrets(tmp_path: Path, seeds_index: Path,
                                                                  api: SlackAPIServer) -> None:
    token = "xoxb-9-logs-Kq7TOKENkq7"
    env = qa_env(tmp_path, SLACK_BOT_TOKEN=token, SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=api.url,
                 QA_SLACK_LOG_LEVEL="debug")  # the most the bot ever logs
    running = Running(["--http", "--port", "0", "--index", str(seeds_index)], env, "Answering Slack at")
    try:
        url = running.wait_ready().split()[3].replace("0.0.0.0", "127.0.0.1")
        api.fail("chat.postMessage", 3, status=500)  # the first try and both retries
        assert signed_mention(url, "Who did Ruto call in January 2025?", "C0FAIL", "EvFAIL1") == 200
        deadline = time.monotonic() + 30
        while not any("C0FAIL" in line and "ERROR" in line for line in running.lines):
            assert time.monotonic() < deadline, "".join(running.lines)
            time.sleep(0.1)
        assert signed_mention(url, "Who did Ruto call in January 2025?", "C0NEXT", "EvFAIL2") == 200
        [reply] = api.wait_for("chat.postMessage", lambda c: c.params["channel"] == "C0NEXT")
        assert "Rubio" in reply.params["text"]
    finally:
        rc = running.stop()
    assert rc == 0
    assert len(api.attempts("chat.postMessage", lambda c: c.params["channel"] == "C0FAIL")) == 3
    err = "".join(running.lines)
    problems = [line.rstrip("\n") for line in running.lines if line.startswith(("WARNING ", "ERROR ", "CRITICAL "))]
    assert problems == ["ERROR qa.slack: answering a mention in C0FAIL failed: chat.postMessage: HTTP 500"]
    assert "Traceback" not in err
    assert "Sending a request" in err  # slack_sdk's DEBUG lines were on
    assert token not in err and SECRET not in err


def test_qa_slack_socket_mode_answers_events_commands_and_clicks(tmp_path: Path, seeds_index: Path,
                                                                 api: SlackAPIServer) -> None:
    with SocketModeServer() as sockets:
        api.socket_mode = sockets
        env = qa_env(tmp_path, SLACK_BOT_TOKEN="xoxb-sock", SLACK_APP_TOKEN="xapp-1-A0APP-sock", SLACK_API_URL=api.url)
        running = Running(["--index", str(seeds_index)], env, "Connected to Slack in Socket Mode")
        try:
            running.wait_ready()
            sockets.wait_connected()
            [opened] = api.calls_to("apps.connections.open")
            assert opened.token == "xapp-1-A0APP-sock"
            event = {"type": "event_callback", "event_id": "EvSOCK1", "team_id": "T0TEAM", "event": {
                "type": "message", "channel_type": "im", "user": "U0ANN", "channel": "D0SOCK",
                "text": "How much did the Biden administration pledge to the Haiti mission?", "ts": "1712000001.000100"}}
            sockets.wait_ack(sockets.send("events_api", event))
            sockets.wait_ack(sockets.send("events_api", event, retry_attempt=1))  # redelivered: not answered again
            [reply] = api.wait_for("chat.postMessage", lambda c: c.params["channel"] == "D0SOCK")
            assert reply.token == "xoxb-sock" and "002_55bcac6e1997eb79.txt" in reply.params["text"]
            command = {"command": "/ask", "text": "Who did Ruto call in January 2025?", "channel_id": "C0SOCK",
                       "user_id": "U0ANN", "team_id": "T0TEAM", "response_url": api.response_url("sock"),
                       "trigger_id": "1.2.3", "api_app_id": "A0APP"}
            sockets.wait_ack(sockets.send("slash_commands", command))
            [private] = api.wait_for("chat.postEphemeral", lambda c: c.params["channel"] == "C0SOCK")
            assert "Rubio" in private.params["text"]
            share = next(e for b in private.params["blocks"] if b["type"] == "actions" for e in b["elements"]
                         if e["action_id"] == "qa_share")
            click = {"type": "block_actions", "user": {"id": "U0ANN"}, "team": {"id": "T0TEAM"},
                     "channel": {"id": "C0SOCK"}, "response_url": api.response_url("sock-click"),
                     "container": {"type": "message", "message_ts": "1712000002.000100", "channel_id": "C0SOCK",
                                   "is_ephemeral": True},
                     "actions": [{**share, "block_id": "qa_actions", "action_ts": "1712000003.0"}]}
            sockets.wait_ack(sockets.send("interactive", click))
            [shared] = api.wait_for("chat.postMessage", lambda c: c.params["channel"] == "C0SOCK")
            assert "Rubio" in shared.params["text"]
            time.sleep(0.5)  # room for a wrong second answer to the redelivered event to show up
            assert len(api.calls_to("chat.postMessage", lambda c: c.params["channel"] == "D0SOCK")) == 1
        finally:
            rc = running.stop()
    assert rc == 0
    assert "Traceback" not in "".join(running.lines)


def test_manifest_declares_what_the_bot_uses() -> None:
    yaml = pytest.importorskip("yaml")
    manifest = yaml.safe_load((ROOT / "adapters" / "slack" / "manifest.yml").read_text(encoding="utf-8"))
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"app_mentions:read", "chat:write", "commands", "im:history", "im:read", "reactions:write",
            "channels:history", "groups:history", "mpim:history"} <= scopes  # history: looking before re-posting
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == {"app_mention", "message.im"}
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/ask"]
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True
