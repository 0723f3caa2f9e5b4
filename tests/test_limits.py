"""The limits of what a question may ask for (k, modes, readers, question length, history turns) are defined once in
`qa.config` and checked by the core, whatever the front end: a bad value is refused with a clear InputError, never
quietly changed. The core's errors say what is wrong and carry their fix as a field; only the front ends word
advice (the command line names `qa` commands, the core never does)."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.common.advice import with_advice
from adapters.main import main
from qa import config
from qa.bot import Bot
from qa.config import HISTORY_TURNS, MAX_K, MIN_K, MODES, resolve
from qa.errors import ASK, INGEST, IndexMissingError, InputError
from qa.index.local import ingest_paths
from qa.question.conversation import Turn, check_history
from tests.support.paths import SEEDS
from tests.support.tiny_embedder import TinyEmbedder

QUESTION = "How much did the Biden administration pledge to the Haiti mission?"


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Bot:
    """The seeds with the tiny embedder and no reader: no model is loaded."""
    index = tmp_path_factory.mktemp("limits") / "idx"
    tiny = TinyEmbedder()
    ingest_paths([SEEDS], index, tiny)
    return Bot(resolve(index=index, reader="none"), embedder=tiny)


@pytest.mark.parametrize("k", [0, -1, MAX_K + 1, 1000, True, 2.5, "3"])
def test_a_k_out_of_bounds_is_refused_by_the_core_not_changed(bot: Bot, k: object) -> None:
    for call in (lambda: bot.ask(QUESTION, k=k), lambda: bot.search(QUESTION, k=k)):  # type: ignore[arg-type]
        with pytest.raises(InputError, match=f"k must be a whole number from {MIN_K} to {MAX_K}") as err:
            call()
        assert err.value.field == "k"


def test_every_k_within_bounds_and_every_mode_of_the_config_is_taken(bot: Bot) -> None:
    assert len(bot.ask(QUESTION, k=MIN_K).citations) == 1
    assert len(bot.search(QUESTION, k=MAX_K)) <= MAX_K
    for mode in MODES:
        assert bot.ask(QUESTION, mode=mode).citations  # "bm25" among them: one list of modes, the core's
    assert MODES == ("hybrid", "dense", "bm25")


@pytest.mark.parametrize(("kwargs", "field"), [({"mode": "lexical"}, "mode"), ({"mode": "BM25 "}, "mode"),
                                               ({"reader": "bert"}, "reader"), ({"history": "who?"}, "history"),
                                               ({"history": [("who?",)]}, "history"),
                                               ({"history": [("who?", 3)]}, "history")])
def test_an_unknown_mode_reader_or_a_malformed_history_is_refused(bot: Bot, kwargs: dict, field: str) -> None:
    with pytest.raises(InputError) as err:
        bot.ask(QUESTION, **kwargs)
    assert err.value.field == field and "qa " not in str(err.value)


def test_the_core_reads_the_last_turns_of_a_long_history() -> None:
    turns = [(f"question {i}?", f"answer {i}.") for i in range(20)]
    assert check_history(turns) == [Turn(q, a) for q, a in turns[-HISTORY_TURNS:]]
    assert check_history(None) == [] and check_history([["q?", None]]) == [Turn("q?", None)]
    kept = Turn("Who did Ruto call?", "Ruto called Trump. [1]", "Who did Ruto call?", ("Trump",))
    assert check_history([kept]) == [kept]  # a turn as Answer.turn() makes it is kept whole


def test_a_long_history_is_taken(bot: Bot) -> None:
    history = [("Who did Ruto call?", "Ruto called Trump.")] * 20
    assert bot.ask("What did they discuss?", history=history).question == "What did they discuss?"


def test_a_question_over_the_length_limit_is_refused(bot: Bot) -> None:
    with pytest.raises(InputError, match=f"at most {config.MAX_QUESTION_CHARS}"):
        bot.ask("why " * config.MAX_QUESTION_CHARS)


def test_the_cores_errors_carry_their_fix_and_no_command_line_advice(bot: Bot, tmp_path: Path) -> None:
    with pytest.raises(InputError) as empty:
        bot.ask("   ")
    assert str(empty.value) == "the question is empty" and empty.value.fix == ASK
    missing = Bot(resolve(index=tmp_path / "nothing-here", reader="none"), embedder=TinyEmbedder())
    with pytest.raises(IndexMissingError) as none:
        missing.ask(QUESTION)
    assert str(none.value) == f"no index at {tmp_path / 'nothing-here'}"  # what a library user sees
    assert none.value.fix == INGEST and none.value.fields["index"] == str(tmp_path / "nothing-here")
    # each front end words its own advice: the command line names its commands, the chat what to type
    assert with_advice(empty.value) == 'the question is empty: ask something, e.g. qa ask "Who signed the agreement?"'
    assert with_advice(empty.value, chat=True) == "the question is empty: type a question, e.g. Who signed the agreement?"
    assert with_advice(none.value).endswith(f"run `qa ingest PATH --index {tmp_path / 'nothing-here'}` first")


def test_the_command_line_reads_its_limits_from_the_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "--k", str(MAX_K + 1), "--index", str(tmp_path), QUESTION]) == 1
    assert capsys.readouterr().err.strip() == f"error: k must be between {MIN_K} and {MAX_K}, got {MAX_K + 1}"
    with pytest.raises(SystemExit):
        main(["ask", "--mode", "lexical", QUESTION])
    assert "invalid choice: 'lexical' (choose from 'hybrid', 'dense', 'bm25')" in capsys.readouterr().err
