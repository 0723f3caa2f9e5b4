"""The library in three lines: `Bot.from_folder`, `print(bot.ask(…))`, and `with` closing the index."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa import Bot
from qa.errors import SourceError
from tests.support.paths import SEEDS
from tests.support.tiny_embedder import TinyEmbedder

QUESTION = "How much did the Biden administration pledge to the Haiti mission?"


def test_a_bot_from_a_folder_answers_and_prints_its_citations(tmp_path: Path) -> None:
    with Bot.from_folder(str(SEEDS), index=tmp_path / "idx", embedder=TinyEmbedder(), reader="none") as bot:
        answer = bot.ask(QUESTION)
        assert len(bot.articles()) == 5
    text = str(answer)
    assert not answer.abstained and text.splitlines()[0] == answer.answer
    cited = text.splitlines()[1:]
    assert len(cited) == len(answer.citations) and cited[0].startswith("[1] ")
    assert f"{Path(answer.citations[0].source).name}:{answer.citations[0].line_start}" in cited[0]
    # closed by `with`, the bot opens its index again for the next question, and a second bot finds the
    # index up to date: nothing is embedded again
    assert bot.ask(QUESTION).answer == answer.answer
    again = TinyEmbedder()
    with Bot.from_folder(SEEDS, index=tmp_path / "idx", embedder=again, reader="none") as same:
        assert same.ask(QUESTION).answer == answer.answer
    assert again.texts_encoded == 2  # the warm-up and the question: no passage


def test_a_folder_with_no_articles_is_one_error_and_no_index(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceError, match="nothing could be indexed"):
        Bot.from_folder(tmp_path / "empty", index=tmp_path / "idx", embedder=TinyEmbedder(), reader="none")
    assert not (tmp_path / "idx").exists() or not any((tmp_path / "idx").glob("manifest-*.json"))


def test_an_abstention_prints_as_one_sentence(tmp_path: Path) -> None:
    with Bot.from_folder(SEEDS, index=tmp_path / "idx", embedder=TinyEmbedder(), reader="none") as bot:
        answer = bot.ask("What did President Xi Jinping say about the mission?")
    assert answer.abstained and str(answer) == "The articles do not answer this question."
