"""Bad questions: empty, blank, 100 KB long, control characters, emoji only, another language.

Through `qa ask` (real processes) and the terminal chat (a pseudo-terminal): each gets a clear reply,
never a traceback; a question the bot cannot take is one `error:` line and a non-zero exit, one it can
take (however odd) an answer or an abstention; the chat stays up through all of them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from qa.text.cleaning import MAX_QUESTION_CHARS, clean_question
from tests.support.paths import ROOT
from tests.support.repl_pty import PROMPT, Repl, plain, repl_env

QA = Path(sys.executable).parent / "qa"
LONG = "Who did Ruto call? " * 5300  # about 100 KB
CONTROLS = "Who did Ruto\x07 call in \x1b[31mJanuary\x1b[0m 2025?\x08\x7f"
EMOJI = "🤔🤔🤔"
SPANISH = "¿Con quién habló Ruto por teléfono en enero de 2025?"
SWAHILI = "Rais Ruto alizungumza na nani kwa simu mwezi Januari 2025?"
EMPTY_MESSAGE = 'error: the question is empty: ask something, e.g. qa ask "Who signed the agreement?"'
CHAT_EMPTY_MESSAGE = "error: the question is empty: type a question, e.g. Who signed the agreement?"  # its own advice
LONG_MESSAGE = f"error: the question is too long ({len(LONG.strip())} characters, at most {MAX_QUESTION_CHARS})"


def _env() -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "80", "NO_COLOR": "1"}


def qa_ask(args: list[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(QA), "ask", *args], input=stdin, capture_output=True, text=True, cwd=ROOT,
                          env=_env(), timeout=300)


def test_clean_question() -> None:
    assert clean_question(CONTROLS) == "Who did Ruto call in January 2025?"
    assert clean_question("  Who\tdid\u00a0Ruto\n call?\r ") == "Who did Ruto call?"
    assert clean_question("\x1b]0;title\x07\x1b]8;;http://x\x07Who\x1b]8;;\x07 called?") == "Who called?"
    assert clean_question("Qui a appelé Ruto ?") == "Qui a appelé Ruto ?"  # e + combining accent → é
    assert clean_question(EMOJI) == EMOJI and clean_question(SPANISH) == SPANISH
    assert clean_question("\x00\x07\x1b[2J") == ""
    assert clean_question("\x9b31mred") == "red"  # the one-byte CSI


@pytest.mark.parametrize(
    ("question", "message"),
    [("", EMPTY_MESSAGE), ("   \t ", EMPTY_MESSAGE), ("\x07\x1b[31m\x1b[0m", EMPTY_MESSAGE), (LONG, LONG_MESSAGE)],
    ids=["empty", "whitespace", "only-control-characters", "100KB"],
)
def test_a_question_the_bot_cannot_take_is_one_error_line(question: str, message: str, tmp_path: Path) -> None:
    # refused before the model or the index is touched: the index named here does not exist
    proc = qa_ask([question, "--index", str(tmp_path / "no-index")])
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == [message]


def test_odd_questions_get_an_answer_or_an_abstention(seeds_index: Path) -> None:
    proc = qa_ask(["--json", "--index", str(seeds_index)], stdin="\n".join([CONTROLS, EMOJI, SPANISH, SWAHILI]) + "\n")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert "\x1b" not in proc.stdout
    controls, emoji, spanish, swahili = (json.loads(line) for line in proc.stdout.splitlines())
    assert controls["question"] == "Who did Ruto call in January 2025?"
    assert "Rubio" in controls["answer"] and controls["citations"][0]["source"].startswith("seeds/003_")
    for obj, question in ((emoji, EMOJI), (spanish, SPANISH), (swahili, SWAHILI)):
        assert obj["question"] == question
        assert obj["abstained"] is (obj["answer"] is None)  # an answer, or a plain abstention
    assert emoji["abstained"]  # nothing in the articles is about a thinking face


def test_piped_questions_go_on_after_bad_ones(seeds_index: Path) -> None:
    lines = [LONG, "\x07\x07", CONTROLS]
    proc = qa_ask(["--index", str(seeds_index)], stdin="\n".join(lines) + "\n")
    assert proc.returncode == 1  # some questions could not be asked
    assert proc.stderr.splitlines() == [LONG_MESSAGE, EMPTY_MESSAGE]
    assert "Rubio" in proc.stdout.splitlines()[0]  # the good question after them is answered


@pytest.fixture
def repl(seeds_index: Path, tmp_path: Path) -> Iterator[Repl]:
    """`qa repl` on the seeds index in a colour pseudo-terminal."""
    r = Repl(["--index", str(seeds_index)], repl_env(tmp_path))
    r.child.timeout = 120
    yield r
    r.kill()


def send(repl: Repl, text: str, until: str, pasted: bool = True) -> str:
    """Enter `text` (as a terminal paste by default, so control characters reach the line as typed);
    wait for `until` and the next prompt; return what was printed meanwhile, as a reader sees it."""
    mark = len(repl.log.getvalue())
    repl.child.send("\x1b[200~" + text + "\x1b[201~\r" if pasted else text + "\r")
    repl.child.expect(until)
    repl.child.expect(PROMPT)
    raw = repl.log.getvalue()[mark:]
    return plain(raw[: raw.rfind(PROMPT)])


def test_the_chat_replies_to_each_bad_question_and_stays_up(repl: Repl) -> None:
    repl.wait_prompt()
    # Blank lines are passed over, as a shell does: the prompt comes back and nothing else.
    for blank in ("", "   "):
        assert set(send(repl, blank, PROMPT, pasted=False)) <= set(PROMPT + "\n")  # the prompt redrawn, no reply

    assert LONG_MESSAGE in send(repl, LONG, "too long").splitlines()
    assert CHAT_EMPTY_MESSAGE in send(repl, "\x07\x1b[0m", "question is empty").splitlines()

    answered = send(repl, CONTROLS, "score")
    assert "Marco Rubio" in " ".join(answered.split())
    for question in (EMOJI, SPANISH, SWAHILI):
        text = send(repl, question, "do not answer|score")
        assert "error" not in text

    assert "/quit" in send(repl, "/help", "/quit", pasted=False)
    log = repl.log.getvalue()
    assert "Traceback" not in log and "\x07" not in log  # the bell in a question never reaches the terminal
    assert repl.quit_with_ctrl_d() == 0
