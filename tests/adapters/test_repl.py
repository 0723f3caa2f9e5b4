"""The terminal chat, driven for real: `qa repl` in a pseudo-terminal (pexpect) and through a pipe.

Each spawned process loads the real model (about ten seconds), so one process serves several checks.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pexpect
import pytest

from tests.support.paths import ROOT
from tests.support.repl_pty import PROMPT, Repl, Spawn, cited_sources, colour_codes, plain, repl_env

QUESTION = "Who did Ruto call in January 2025?"
FOLLOW_UP = "What did they say about Haiti?"
RUBIO = ("seeds/003_", "seeds/004_")  # the two articles about Ruto's call with Marco Rubio
TRUMP = ("seeds/000_", "seeds/001_", "seeds/002_")


def test_chat_session_follow_up_sources_reset_and_keys(seeds_index: Path, spawn: Spawn) -> None:
    repl = spawn(["--index", str(seeds_index)])
    assert repl.wait_prompt() < 5.0, "the prompt comes up at once, before the model (the history test shows the wait)"

    first = repl.run(QUESTION, until="score")
    text = plain(first)
    assert re.search(r"Marco\s+Rubio", text)
    assert cited_sources(text)[0].startswith(RUBIO)
    assert "score" in text
    assert colour_codes(first), "a colour terminal gets colours"

    # The follow-up names nobody: it only makes sense after the first turn, which is carried into it.
    follow = plain(repl.run(FOLLOW_UP, until="score"))
    assert "taken as:" in follow
    sources = cited_sources(follow)
    assert sources and all(s.startswith(RUBIO) for s in sources), sources
    assert not any(s.startswith(TRUMP) for s in sources)

    full = plain(repl.run("/sources 1", until="score"))
    assert full.lstrip().startswith("[1] " + sources[0])
    assert "Rubio" in full and "/sources 1" not in full.split("\n", 1)[1]  # shown whole, not folded
    last = len(sources)
    which = "source 1" if last == 1 else f"sources 1 to {last}"
    assert f"no source {last + 1}: the last answer has {which}" in plain(repl.run(f"/sources {last + 1}",
                                                                                   until="the last answer has"))
    # a question on another topic stands alone: the conversation never makes it answerable
    outside = plain(repl.run("What is the boiling point of mercury?", until="do not answer"))
    assert "taken as" not in outside and outside.lstrip().startswith("The articles do not answer this question.")

    # Ctrl-C drops a half-typed line; the program goes on.
    repl.child.send("Who is half a quest")
    repl.child.sendcontrol("c")
    repl.run("/k 2", until="k = 2")
    log = plain(repl.log.getvalue())
    dropped = log[log.rindex("half a quest"):log.rindex("k = 2")]
    assert "[1]" not in dropped and "do not answer" not in dropped and "taken as" not in dropped

    repl.child.sendline("")  # an empty line is ignored: no answer, no error
    assert "unknown command /nope" in plain(repl.run("/nope", until="try /help"))

    assert "Conversation forgotten" in plain(repl.run("/reset", until="forgotten"))
    assert "no sources yet" in plain(repl.run("/sources 1", until="ask a question first"))
    # After /reset the same follow-up stands alone: nothing is carried from the forgotten turns.
    alone = plain(repl.run(FOLLOW_UP, until="(score|do not answer)"))
    assert "taken as" not in alone
    if "do not answer" not in alone:
        assert len(cited_sources(alone)) == 2  # /k 2 still holds

    assert "question is empty" not in plain(repl.log.getvalue())
    assert repl.quit_with_ctrl_d() == 0


@pytest.fixture(scope="module")
def narrow_monochrome(seeds_index: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One chat in a 60-column terminal with NO_COLOR set: what it printed, raw and per command."""
    env = repl_env(tmp_path_factory.mktemp("narrow"), NO_COLOR="1")
    repl = Repl(["--index", str(seeds_index)], env, columns=60)
    try:
        repl.wait_prompt()
        seen = {
            "answer": repl.run(QUESTION, until="score"),
            "source": repl.run("/sources 3", until="score"),
            "help": repl.run("/help", until="/quit"),
            "hint": repl.run("/nope", until="try /help"),  # hints are yellow on a colour terminal
        }
        seen["exit"] = str(repl.quit_with_ctrl_d())
    finally:
        repl.kill()
    seen["raw"] = repl.log.getvalue()
    return seen


def test_narrow_terminal_keeps_its_layout(narrow_monochrome: dict[str, str]) -> None:
    assert narrow_monochrome["exit"] == "0"
    answer = plain(narrow_monochrome["answer"]).splitlines()
    assert any(line.startswith("[1] seeds/003_") for line in answer)
    assert sum(line.startswith("    ") for line in answer) >= 3  # passages stay indented under their headers
    assert re.search(r"Marco\s+Rubio", "\n".join(answer))
    for part in ("answer", "source", "help", "hint"):
        lines = plain(narrow_monochrome[part]).splitlines()
        assert max(len(line) for line in lines) <= 60, max(lines, key=len)
    assert len(plain(narrow_monochrome["source"]).split()) > 20


def test_no_color_means_no_colour_codes(narrow_monochrome: dict[str, str]) -> None:
    raw = narrow_monochrome["raw"]
    assert "Marco" in raw and "try /help" in raw
    assert colour_codes(raw) == []


def test_history_persists_and_ctrl_c_cancels_a_pending_answer(seeds_index: Path, spawn: Spawn, tmp_path: Path) -> None:
    history = tmp_path / "history"
    # the torch backend takes seconds to load (ONNX well under one), so the question surely waits for it
    first = spawn(["--index", str(seeds_index)], QA_BACKEND="torch")
    first.wait_prompt()
    # Asked at once, the question waits for the model behind a spinner; Ctrl-C gives the prompt back.
    first.child.sendline(QUESTION)
    first.child.expect("Loading the model")
    # a Ctrl-C typed in the instant the line editor hands the terminal back can reach it as a key
    # rather than a signal; a person presses again, and so does the test
    for _ in range(20):
        first.child.sendcontrol("c")
        if first.child.expect([r"\(cancelled\)", pexpect.TIMEOUT], timeout=0.5) == 0:
            break
    else:
        pytest.fail("Ctrl-C never cancelled the pending answer")
    first.wait_prompt()
    assert first.quit_with_ctrl_d() == 0
    assert QUESTION in history.read_text(encoding="utf-8")

    second = spawn(["--index", str(seeds_index)])
    second.wait_prompt()
    time.sleep(0.3)  # the history file is read as the prompt starts
    second.child.send("\x1b[A")  # up arrow
    second.child.expect("January 2025")
    second.child.sendcontrol("c")  # drop the recalled line
    second.child.expect(PROMPT)
    second.child.sendcontrol("r")  # reverse search
    second.child.send("Ruto")
    second.child.expect("Who did Ruto call")
    second.child.sendcontrol("c")
    second.child.expect(PROMPT)
    assert second.quit_with_ctrl_d() == 0


def test_piped_questions_get_plain_answers_and_commands_work(seeds_index: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    shutil.copytree(seeds_index, index)  # /reindex writes to it
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    marathon = "Who won the Lake Naivasha marathon in 2025?"
    lines = [QUESTION, "", FOLLOW_UP, "/sources 1", "/k 1", "/mode bm25", marathon, "/reindex", "/mode hybrid",
             marathon, "/frobnicate"]
    (corpus / "marathon.txt").write_text(
        "Naivasha marathon ends in a sprint finish\n\n"
        "The Lake Naivasha marathon in 2025 was won by Wanjiru Kamau, who finished in two hours and eleven minutes.\n"
        "Thousands of runners took part, and the race raised money for the lake's conservation.\n",
        encoding="utf-8",
    )
    env = repl_env(tmp_path, QA_CORPUS=str(corpus))
    done = subprocess.run([sys.executable, "-m", "adapters", "repl", "--index", str(index)], cwd=ROOT, env=env,
                          input="\n".join(lines) + "\n", capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "\x1b" not in out and PROMPT not in out and "Loading" not in out
    assert "unknown command /frobnicate" in done.stderr

    blocks = out.split("\n\n")
    assert "Marco Rubio" in blocks[0] and cited_sources(blocks[0])[0].startswith(RUBIO)
    follow = blocks[1]
    assert follow.startswith("(taken as: What did ") and "Rubio and Ruto say about Haiti?)" in follow.splitlines()[0]
    assert all(s.startswith(RUBIO) for s in cited_sources(follow))
    assert blocks[2].startswith("[1] " + cited_sources(follow)[0])  # /sources 1: the passage in full

    # /reindex re-reads what the index was built from (the seeds), never the configured corpus, which the
    # user did not ask to add to their index
    before, after = out.split("0 added, 0 updated, 0 removed, 5 unchanged")
    assert "The articles do not answer this question." in before
    assert "The articles do not answer this question." in after and "Wanjiru Kamau" not in after


def test_reader_command_switches_who_picks_the_quote(seeds_index: Path, tmp_path: Path) -> None:
    question = "What does STIP stand for?"
    lines = ["/reader", question, "/reader none", question, "/reader cross-encoder", question, "/reader bogus"]
    done = subprocess.run([sys.executable, "-m", "adapters", "repl", "--index", str(seeds_index)], cwd=ROOT,
                          env=repl_env(tmp_path), input="\n".join(lines) + "\n", capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "usage: /reader cross-encoder|none" in done.stderr
    out = done.stdout
    assert out.startswith("reader = cross-encoder")
    read, plain, again = out.split("reader = ")[1:]  # each part: the setting's line, then the answer
    assert "Strategic Trade and Investment Partnership (STIP)" in read.split("\n[1]")[0]
    assert "Strategic Trade and Investment Partnership (STIP)" not in plain.split("\n[1]")[0]
    assert "Strategic Trade and Investment Partnership (STIP)" in again.split("\n[1]")[0]


def test_a_bad_index_is_one_line_and_a_failure(tmp_path: Path, spawn: Spawn) -> None:
    repl = spawn(["--index", str(tmp_path / "nowhere")])
    repl.child.expect(pexpect.EOF)
    repl.child.close()
    assert repl.child.exitstatus == 1
    shown = [line for line in plain(repl.log.getvalue()).splitlines() if line.strip()]
    assert len(shown) == 1 and shown[0].startswith("error: no index at") and PROMPT not in shown[0]


def test_a_first_build_that_fails_in_the_background_ends_the_chat(tmp_path: Path, spawn: Spawn) -> None:
    repl = spawn([], QA_CORPUS=str(tmp_path / "no-articles-here"))  # no index yet: built from the corpus
    repl.child.expect(pexpect.EOF)
    repl.child.close()
    assert repl.child.exitstatus == 1
    out = plain(repl.log.getvalue())
    assert "building one from" in out
    errors = [line for line in out.splitlines() if "error" in line]
    assert len(errors) == 1 and re.search(r"error: cannot build the index from \S+: .*no such file", errors[0])
