"""Loading the bot's model and index in the background while the chat's prompt is already up."""

from __future__ import annotations

import threading
from collections.abc import Callable

from qa.bot import Bot
from qa.errors import QAError


class Loader:
    """Opens the bot's model and index in a daemon thread; `done` is set when it finished or failed."""

    def __init__(self, bot: Bot, on_error: Callable[[], None] | None = None) -> None:
        self.bot = bot
        self.done = threading.Event()
        self.error: QAError | None = None
        self.progress: tuple[int, int] | None = None  # passages embedded, on a first build
        self.first_build = bot.needs_first_build()  # no index yet: it is built from the corpus
        self.building = self.first_build  # still building, for the spinner
        self.on_error = on_error
        self._thread = threading.Thread(target=self._run, name="qa-load", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def running(self) -> bool:
        return self._thread.is_alive()

    def _progress(self, done: int, total: int) -> None:
        self.progress = (done, total)

    def _run(self) -> None:
        try:
            self.bot.load(progress=self._progress)  # builds the index first when there is none
        except QAError as exc:
            self.error = exc
        except Exception as exc:  # a loader that dies silently would leave the chat waiting forever
            self.error = QAError(f"cannot load the model and index: {exc}")
        finally:
            self.building = False
            self.done.set()
        if self.error is not None and self.on_error is not None:
            self.on_error()

    def describe(self) -> str:
        if self.building:
            corpus = self.bot.settings.corpus
            if self.progress and self.progress[1]:
                done, total = self.progress
                return f"Building the index from {corpus}: {done}/{total} passages…"
            return f"Building the index from {corpus} (first run only)…"
        return "Loading the model and index…"


class LoadFailed(Exception):
    """Ends the prompt when the background load fails while the user is typing."""
