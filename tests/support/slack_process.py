"""`qa slack` as a process: its environment, running it in the background, and signed events posted to it."""

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
from pathlib import Path

from tests.support.paths import ROOT

SECRET = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"


def qa_env(tmp_path: Path, **slack: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "QA_"))}
    env.update(HF_HUB_OFFLINE="1", XDG_DATA_HOME=str(tmp_path / "data"), XDG_STATE_HOME=str(tmp_path / "state"),
               PYTHONUNBUFFERED="1", COLUMNS="200", **slack)
    return env


class Running:
    """`qa slack …` running in the background, its stderr collected line by line."""

    def __init__(self, args: list[str], env: dict[str, str], ready: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "adapters", "slack", *args], cwd=ROOT, env=env,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True)
        self.lines: list[str] = []
        self.ready = threading.Event()
        self._marker = ready
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)
            if self._marker in line:
                self.ready.set()

    def wait_ready(self, timeout: float = 60) -> str:
        assert self.ready.wait(timeout), "".join(self.lines)
        return next(x for x in self.lines if self._marker in x)

    def stop(self) -> int:
        """SIGTERM, as a service manager would stop it; the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise


def signed_mention(url: str, text: str, channel: str, event_id: str, ts: str = "1712000000.000100") -> int:
    """POST a signed app_mention to the bot at `url`; the HTTP status."""
    body = json.dumps({"type": "event_callback", "event_id": event_id, "team_id": "T0TEAM", "event": {
        "type": "app_mention", "user": "U0ANN", "text": f"<@U0BOT> {text}", "ts": ts,
        "channel": channel}})
    ts = str(int(time.time()))
    sig = "v0=" + hmac.new(SECRET.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    req = urllib.request.Request(url, data=body.encode(), method="POST", headers={
        "Content-Type": "application/json", "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return int(resp.status)
