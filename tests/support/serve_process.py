"""`qa serve` as a process on a free loopback port, and JSON requests to it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tests.support.paths import ROOT


class Serving:
    """`qa serve --port 0 ARGS` in the background; `url` once it listens."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "adapters", "serve", "--port", "0", *args], cwd=ROOT,
                                     env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self.ready = threading.Event()
        self.url = ""
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)
            if (m := re.search(r"Serving at (http://\S+?)/ ", line)):
                self.url = m.group(1)
                self.ready.set()

    def wait_ready(self, timeout: float = 90) -> str:
        assert self.ready.wait(timeout), "".join(self.lines)
        return self.url

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
        return self.proc.wait(30)


def request(url: str, body: Any = None, method: str | None = None, headers: dict[str, str] | None = None,
            raw: bytes | None = None) -> tuple[int, Any]:
    """(status, parsed JSON body) of one request; errors are returned, not raised."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(url, data=data, method=method or ("POST" if data is not None else "GET"),
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def index_with(tmp: Path, files: dict[str, str]) -> Path:
    """A folder of the given article files (name → text)."""
    folder = tmp / "articles"
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder
