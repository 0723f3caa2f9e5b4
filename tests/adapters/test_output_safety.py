"""Output safety: an article and a file name full of terminal escape sequences (colours, window title,
hyperlinks, bell, backspace, carriage return, the one-byte CSI) and rich markup, ingested for real, never
reach the terminal as commands: `qa ingest`, `qa ask` (plain, --json, colour terminal) and the chat show
them as visible characters (␛ ␇ ␈ …) or escaped JSON, and markup as the literal text it is."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

from adapters.common.safe import json_line, terminal_safe
from tests.support.paths import ROOT
from tests.support.repl_pty import PROMPT, Repl, repl_env

QA = str(Path(sys.executable).parent / "qa")
TITLE_ESC = "\x1b]0;pwned\x07"  # sets the terminal window's title
LINK_ESC = "\x1b]8;;http://evil.example\x07"  # starts a hyperlink
BLINK = "\x1b[5;31m"  # blinking red: a style rich itself never uses
# A folder "news[" holding "]...turkana.txt": the path reads "news[/]…", a rich closing tag.
FILE_NAME = f"]{TITLE_ESC}{BLINK}[bold red]turkana.txt"
ARTICLE = (
    f"{TITLE_ESC}[bold red]Turkana wind farm[/] breaks a record\x1b[0m\n\n"
    f"The Lake Turkana wind farm produced {BLINK}310 megawatts\x1b[0m of power in February, the operator said\x07.\n\n"
    f"Engineers said the record came after {LINK_ESC}new turbines\x1b]8;;\x07 were added "
    "[link=http://evil.example]near Loiyangalani[/link] last year.\n\n"
    "The chief\x08\x08\x08\x08\x08engineer, Amina Otieno, said maintenance costs fell by a third.\rOVERWRITTEN\n\n"
    "A one-byte control sequence \x9b5m and a delete\x7f are shown, not obeyed.\n"
)
QUESTION = "How much power did the Lake Turkana wind farm produce in February?"
LINK_QUESTION = "What was added near Loiyangalani last year?"  # answered by the sentence with the hyperlink
FOLLOW_UP = f"What did they{TITLE_ESC} say about\x1b[2J it?"
SHOWN = "␛[5;31m310 megawatts␛[0m"  # how the answer's own escape codes must appear
SHOWN_LINK = "␛]8;;http://evil.example␇new turbines␛]8;;␇"
SHOWN_NAME = "news[/]␛]0;pwned␇␛[5;31m[bold red]turkana.txt"  # the file's path as shown
SHOWN_TITLE = "␛]0;pwned␇[bold red]Turkana wind farm[/] breaks a record␛[0m"
FORBIDDEN = [b"\x1b]", b"\x07", b"\x08", b"\xc2\x9b", b"\x7f", BLINK.encode()]


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "200", "NO_COLOR": "1", **extra}


@pytest.fixture(scope="module")
def evil(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A corpus of one seed and the article above, ingested by a real `qa ingest` into a fresh index."""
    base = tmp_path_factory.mktemp("evil")
    corpus = base / "corpus"
    (corpus / "news[").mkdir(parents=True)
    shutil.copy(next((ROOT / "seeds").glob("003_*.txt")), corpus)
    path = corpus / "news[" / FILE_NAME
    path.write_bytes(ARTICLE.encode("utf-8"))
    index = base / "index"
    proc = subprocess.run([QA, "ingest", str(corpus), "--index", str(index)], capture_output=True, cwd=base,
                          env=_env(), timeout=600)
    return {"path": path, "index": index, "ingest": proc}


def assert_nothing_escapes(raw: bytes) -> None:
    """No escape character, bell, backspace, delete or C1 control in what reached the terminal."""
    assert b"\x1b" not in raw, raw[max(0, raw.find(b"\x1b") - 80):raw.find(b"\x1b") + 80]
    for bad in FORBIDDEN:
        assert bad not in raw


def test_terminal_safe_shows_every_control_character() -> None:
    controls = "".join(chr(c) for c in (*range(0x20), 0x7F, *range(0x80, 0xA0)))
    shown = terminal_safe(controls)
    assert not any(ch in shown for ch in controls if ch not in "\t\n")
    assert terminal_safe("a\x1b[31mb\x07") == "a␛[31mb␇"
    assert terminal_safe("one\r\ntwo\nthree", one_line=True) == "one␤two␤three"
    assert terminal_safe("Nairobi · “Ruto” 🤝 [bold]x[/]") == "Nairobi · “Ruto” 🤝 [bold]x[/]"


def test_json_line_escapes_controls_and_keeps_the_data() -> None:
    obj = {"text": ARTICLE}
    line = json_line(obj)
    assert all(ord(ch) >= 0x20 and not 0x7F <= ord(ch) < 0xA0 for ch in line)
    assert json.loads(line) == obj


def test_ingest_report_shows_the_file_name_literally(evil: dict[str, object]) -> None:
    proc = evil["ingest"]
    assert isinstance(proc, subprocess.CompletedProcess)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == b""
    assert_nothing_escapes(proc.stdout)
    out = proc.stdout.decode()
    assert f"   added corpus/{SHOWN_NAME}\n" in out
    assert "2 added" in out


def test_plain_answer_shows_escapes_and_markup_literally(evil: dict[str, object]) -> None:
    proc = subprocess.run([QA, "ask", QUESTION, "--k", "3", "--index", str(evil["index"])], capture_output=True,
                          cwd=ROOT, env=_env(), timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert_nothing_escapes(proc.stdout + proc.stderr)
    answer, first = proc.stdout.decode().splitlines()[:2]
    assert SHOWN in answer
    assert first.startswith("[1] ") and first.endswith(f"{SHOWN_NAME}:3 · {SHOWN_TITLE}")  # markup and all


def test_json_answer_is_escaped_json_with_the_text_as_written(evil: dict[str, object]) -> None:
    proc = subprocess.run([QA, "ask", QUESTION, "--json", "--index", str(evil["index"])], capture_output=True,
                          cwd=ROOT, env=_env(), timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert_nothing_escapes(proc.stdout + proc.stderr)
    obj = json.loads(proc.stdout)
    cited = obj["citations"][0]
    assert cited["source"].endswith("news[/" + FILE_NAME)
    assert f"{BLINK}310 megawatts\x1b[0m" in obj["answer"] and f"{BLINK}310 megawatts" in cited["text"]
    assert cited["title"] == f"{TITLE_ESC}[bold red]Turkana wind farm[/] breaks a record\x1b[0m"


def sequences(raw: str) -> list[str]:
    """Every escape sequence in `raw` as far as its kind can be told: CSI (ESC [), OSC (ESC ]) or other."""
    return [raw[i:i + 2] for i in (m.start() for m in re.finditer("\x1b", raw))]


def test_colour_terminal_gets_only_rich_styling(evil: dict[str, object]) -> None:
    env = {k: v for k, v in _env(TERM="xterm-256color").items() if k not in ("NO_COLOR", "COLUMNS")}
    child = pexpect.spawn(QA, ["ask", QUESTION, "--index", str(evil["index"])], cwd=str(ROOT), env=env,
                          dimensions=(40, 200), timeout=300)
    raw = child.read()
    child.close()
    assert child.exitstatus == 0, raw
    text = raw.decode()
    assert re.search(r"\x1b\[[0-9;]*m", text), "a colour terminal gets colours"
    # rich styles text and, for its spinner, hides the cursor and clears a line (all CSI); no OSC ever
    assert set(sequences(text)) <= {"\x1b["}, "only CSI codes, no OSC window title or hyperlink"
    for bad in ("\x07", "\x08", "\x9b", "\x7f", BLINK, "\x1b]"):
        assert bad not in text
    assert "␛[5;31m" in text and "␛]0;pwned␇" in text


@pytest.fixture
def chat(evil: dict[str, object], tmp_path: Path) -> Iterator[Repl]:
    r = Repl(["--index", str(evil["index"])], repl_env(tmp_path), columns=200)
    r.child.timeout = 120
    yield r
    r.kill()


def test_the_chat_shows_article_and_user_text_literally(chat: Repl) -> None:
    chat.wait_prompt()
    for line, until in ((QUESTION, "score"), ("/sources 1", "score"), (LINK_QUESTION, "score"), (FOLLOW_UP, "taken as"),
                        (f"/nope{TITLE_ESC}", "try /help")):
        mark = len(chat.log.getvalue())
        chat.child.send(f"\x1b[200~{line}\x1b[201~\r")  # pasted, so the control characters reach the line
        chat.child.expect(until)
        chat.child.expect(PROMPT)
        shown = chat.log.getvalue()[mark:]  # the line as echoed (^[ for ESC), then the reply
        # prompt_toolkit and rich move the cursor and style text (CSI); nothing from the file or the line may act
        assert "\x1b]" not in shown and "\x07" not in shown and BLINK not in shown and "\x1b[2J" not in shown
    log = chat.log.getvalue()
    assert SHOWN in log and SHOWN_LINK in log and SHOWN_TITLE in log
    assert "unknown command /nope␛]0;pwned␇" in log
    assert chat.quit_with_ctrl_d() == 0


def test_the_piped_chat_prints_no_control_characters(evil: dict[str, object], tmp_path: Path) -> None:
    lines = [QUESTION, "/sources 1", f"/nope{TITLE_ESC}", LINK_QUESTION, FOLLOW_UP]
    proc = subprocess.run([QA, "repl", "--index", str(evil["index"])], input="\n".join(lines).encode() + b"\n",
                          capture_output=True, cwd=ROOT, env=repl_env(tmp_path), timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert_nothing_escapes(proc.stdout + proc.stderr)
    out = proc.stdout.decode()
    answer, sources = out.split("\n\n")[:2]
    assert answer.count(SHOWN) == 2 and SHOWN in sources  # in the answer, its cited passage and /sources 1
    assert SHOWN_LINK in out and "(taken as: What did Loiyangalani say about it?)" in out
    assert "unknown command /nope␛]0;pwned␇" in proc.stderr.decode()
