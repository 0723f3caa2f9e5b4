"""`qa repl` in a real pseudo-terminal (pexpect): what the screen shows, as text and as colour codes."""

from __future__ import annotations

import io
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pexpect

from tests.support.paths import ROOT

PROMPT = "› "

CSI = re.compile(r"\x1b\[([0-9;?]*)[ -/]*([@-~])")
OTHER_ESCAPES = re.compile(r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78]")
SGR = re.compile(r"\x1b\[([0-9;]*)m")
CITED = re.compile(r"^\[(\d+)\] (\S+?):\d", re.M)
TOKEN = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\r|.", re.S)


def _screen_line(line: str) -> str:
    """One line as a terminal leaves it: carriage returns, cursor moves and erasures applied."""
    cells: list[str] = []
    col = 0
    for tok in TOKEN.findall(line):
        if tok == "\r":
            col = 0
        elif tok.startswith("\x1b["):
            m = CSI.match(tok)
            args, final = (m.group(1), m.group(2)) if m else ("", "")
            n = int(args) if args.isdigit() else (0 if final in "KG" else 1)
            if final == "C":
                col += n
            elif final == "D":
                col = max(0, col - n)
            elif final == "G":
                col = max(0, n - 1)
            elif final == "K":
                cells = cells[:col] if n == 0 else (cells if n == 1 else [])
        else:
            cells.extend(" " * (col + 1 - len(cells)))
            cells[col] = tok
            col += 1
    return "".join(cells).rstrip()


def plain(raw: str) -> str:
    """What a reader sees of raw terminal output, line by line."""
    raw = OTHER_ESCAPES.sub("", raw)
    return "\n".join(_screen_line(line) for line in raw.replace("\r\n", "\n").split("\n"))


def colour_codes(raw: str) -> list[str]:
    """SGR parameters that set a foreground or background colour."""
    found = []
    for params in SGR.findall(raw):
        codes = [int(p) for p in params.split(";") if p]
        for i, c in enumerate(codes):
            if 30 <= c <= 37 or 40 <= c <= 47 or 90 <= c <= 97 or 100 <= c <= 107 or c in (38, 48):
                if i == 0 or codes[i - 1] not in (38, 48):
                    found.append(params)
    return found


def repl_env(home: Path, **extra: str) -> dict[str, str]:
    """A colour terminal that does not answer cursor-position requests, with its own data and history."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR") and not k.startswith("QA_")}
    env.update(HF_HUB_OFFLINE="1", TERM="xterm-256color", PROMPT_TOOLKIT_NO_CPR="1", QA_HISTORY=str(home / "history"),
               XDG_DATA_HOME=str(home / "data"), XDG_STATE_HOME=str(home / "state"))
    env.update(extra)
    return env


class Repl:
    """A `qa repl` process in a pseudo-terminal, with everything it printed kept in `log`."""

    def __init__(self, args: list[str], env: dict[str, str], columns: int = 100) -> None:
        self.log = io.StringIO()
        self.started = time.monotonic()
        self.child = pexpect.spawn(sys.executable, ["-m", "adapters", "repl", *args], cwd=str(ROOT), env=env,
                                   dimensions=(24, columns), encoding="utf-8", timeout=60)
        self.child.logfile_read = self.log

    def wait_prompt(self) -> float:
        self.child.expect(PROMPT)
        return time.monotonic() - self.started

    def run(self, line: str, until: str) -> str:
        """Send a line, wait for `until` in its output and for the next prompt; the raw output after the echo."""
        mark = len(self.log.getvalue())
        self.child.sendline(line)
        self.child.expect(until)
        self.child.expect(PROMPT)
        raw = self.log.getvalue()[mark:]
        raw = raw[: raw.rfind(PROMPT)]  # up to the next prompt
        return raw.split("\n", 1)[1] if "\n" in raw else raw  # after the echoed line

    def quit_with_ctrl_d(self) -> int:
        self.child.sendcontrol("d")
        self.child.expect(pexpect.EOF)
        self.child.close()
        return int(self.child.exitstatus) if self.child.exitstatus is not None else -1

    def kill(self) -> None:
        if self.child.isalive():
            self.child.terminate(force=True)


Spawn = Callable[..., Repl]


def cited_sources(text: str) -> list[str]:
    return [src for _, src in CITED.findall(text)]
