"""`qa repl`: chat with the articles in the terminal.

The prompt comes up at once while the model and index load in a background thread; a spinner
shows only when a question arrives before they are ready. Line editing and history come from
prompt_toolkit, answers are drawn with rich (see adapters/render.py). With stdin (or stdout) not a
terminal, questions are read one per line and answered in plain text, for scripts and pipes.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from adapters.render import (
    citation_header,
    clean_question,
    excerpt,
    plain_answer,
    render_answer,
    safe_text,
    terminal_safe,
)
from qa import config
from qa.answering.answer import Answer, Citation
from qa.bot import Bot
from qa.errors import QAError
from qa.text.cleaning import check_question

PROMPT = "› "
MAX_K = 50


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


class _LoadFailed(Exception):
    """Ends the prompt when the background load fails while the user is typing."""


def _usage_lines(settings: config.Settings, k: int, mode: str, reader: str) -> list[tuple[str, str]]:
    return [
        ("/sources N", "full text of source N of the last answer"),
        ("/k N", f"cite N passages, 1 to {MAX_K} (now {k})"),
        ("/mode M", f"retrieval: {', '.join(config.MODES)} (now {mode})"),
        ("/reader R", f"who picks the quoted sentence: {', '.join(config.READERS)} (now {reader})"),
        ("/reset", "forget the conversation; the next question stands alone"),
        ("/reindex", f"re-read {settings.corpus}, embedding only what changed"),
        ("/help", "this list"),
        ("/quit", "leave (Ctrl-D does too)"),
    ]


class Chat:
    """One conversation: the turns so far, the last answer, the k and mode in force, and the commands."""

    def __init__(self, bot: Bot, loader: Loader, console: Console, err: Console, plain: bool) -> None:
        self.bot = bot
        self.settings = bot.settings
        self.loader = loader
        self.console = console
        self.err = err
        self.plain = plain
        self.turns: list[tuple[str, str | None]] = []
        self.last: Answer | None = None
        self.k = self.settings.k
        self.mode = self.settings.mode
        self.reader = self.settings.reader
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qa-ask")

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    # output ------------------------------------------------------------------------------------
    # Every message may quote what the user typed or a path, so each goes through terminal_safe.
    def say(self, message: str, style: str = "") -> None:
        if self.plain:
            print(terminal_safe(message), flush=True)
        else:
            self.console.print(safe_text(message, style))

    def hint(self, message: str) -> None:
        """A one-line note about a mistyped command (stderr when piped, so stdout stays answers)."""
        if self.plain:
            print(terminal_safe(message, one_line=True), file=sys.stderr, flush=True)
        else:
            self.console.print(safe_text(message, "yellow", one_line=True))

    def error(self, exc: BaseException) -> None:
        if self.plain:
            print(f"error: {terminal_safe(str(exc), one_line=True)}", file=sys.stderr, flush=True)
        else:
            self.err.print(Text.assemble(("error:", "red"), " ", safe_text(str(exc), one_line=True)))

    # waiting -----------------------------------------------------------------------------------
    def ready(self) -> None:
        """Wait for the background load (with a spinner on a terminal); QAError if it failed."""
        if not self.loader.done.is_set():
            if self.plain:
                self.loader.done.wait()
            else:
                with self.console.status(safe_text(self.loader.describe(), one_line=True)) as status:
                    while not self.loader.done.wait(0.1):
                        status.update(safe_text(self.loader.describe(), one_line=True))
        if self.loader.error is not None:
            raise self.loader.error

    def _wait(self, future: Future[Any]) -> Any:
        # Waiting in short slices keeps Ctrl-C immediate while the work runs in another thread.
        while True:
            try:
                return future.result(timeout=0.1)
            except FutureTimeout:
                continue

    # lines -------------------------------------------------------------------------------------
    def handle(self, line: str) -> bool:
        """Answer a question or run a command; False once the user asked to quit."""
        text = line.strip()
        if not text:
            return True
        if text.startswith("/"):
            return self.command(text)
        self.ask(clean_question(text))  # a question of only control characters is empty: the bot says so
        return True

    def ask(self, question: str) -> None:
        try:
            check_question(question)  # an empty or oversized question is answered at once, not after the model loads
        except QAError as exc:
            self.error(exc)
            return
        self.ready()
        future = self._pool.submit(self.bot.ask, question, history=list(self.turns), k=self.k, mode=self.mode,
                                   reader=self.reader)
        try:
            answer: Answer = self._wait(future)
        except QAError as exc:
            self.error(exc)
            return
        self.turns.append((question, answer.answer))
        self.last = answer
        if self.plain:
            if answer.asked_as:
                print(f"(taken as: {terminal_safe(answer.asked_as, one_line=True)})")
            lines = [plain_answer(answer)]
            if answer.abstained and answer.nearest:
                lines.append("Nearest, but not an answer:")
                lines += [citation_header(c).plain.replace("\n", " ") for c in answer.nearest[:2]]
            print("\n".join(lines) + "\n", flush=True)
        else:
            self.console.print(render_answer(answer))

    def command(self, text: str) -> bool:
        name, _, arg = text.partition(" ")
        name, arg = name.lower(), arg.strip()
        if name in ("/quit", "/exit", "/q"):
            return False
        if name in ("/help", "/h", "/?"):
            self.show_help()
        elif name == "/sources":
            self.show_source(arg)
        elif name == "/k":
            self.set_k(arg)
        elif name == "/mode":
            self.set_mode(arg)
        elif name == "/reader":
            self.set_reader(arg)
        elif name == "/reset":
            self.turns.clear()
            self.last = None
            self.say("Conversation forgotten: the next question stands alone.", "dim")
        elif name == "/reindex":
            self.reindex()
        else:
            self.hint(f"unknown command {name}: try /help")
        return True

    # commands ----------------------------------------------------------------------------------
    def show_help(self) -> None:
        rows = _usage_lines(self.settings, self.k, self.mode, self.reader)
        intro = "Ask in plain words; a follow-up may lean on the last answer (\"what did they say about Haiti?\")."
        keys = "Up/Down and Ctrl-R recall earlier questions; Ctrl-C cancels the line or the answer."
        if self.plain:
            print("\n".join([intro] + [f"  {c:<11} {terminal_safe(d, one_line=True)}" for c, d in rows]), flush=True)
            return
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold cyan", no_wrap=True)
        table.add_column()
        for c, d in rows:
            table.add_row(Text(c), safe_text(d, one_line=True))  # the corpus path is not markup
        self.console.print(Text(intro))
        self.console.print(table)
        self.console.print(Text(keys, style="dim"))

    def _sources(self) -> list[Citation]:
        if self.last is None:
            return []
        return self.last.citations or self.last.nearest

    def show_source(self, arg: str) -> None:
        sources = self._sources()
        if not sources:
            self.hint("no sources yet: ask a question first")
            return
        try:
            n = int(arg)
        except ValueError:
            self.hint(f"usage: /sources N, with N from 1 to {len(sources)}")
            return
        match = [c for c in sources if c.n == n]
        if not match:
            self.hint(f"no source {n}: the last answer has sources 1 to {len(sources)}")
            return
        c = match[0]
        if self.plain:
            print(citation_header(c).plain)
            print(terminal_safe(c.text.strip()) + "\n", flush=True)
        else:
            self.console.print(citation_header(c))
            self.console.print(excerpt(c, fold=len(c.text) + 1))
            self.console.print()

    def set_k(self, arg: str) -> None:
        if not arg:
            self.say(f"k = {self.k}")
            return
        try:
            k = int(arg)
        except ValueError:
            k = 0
        if not 1 <= k <= MAX_K:
            self.hint(f"usage: /k N, with N a whole number from 1 to {MAX_K}")
            return
        self.k = k
        self.say(f"k = {k}: answers cite up to {k} passages", "dim")

    def set_mode(self, arg: str) -> None:
        if not arg:
            self.say(f"mode = {self.mode}")
            return
        mode = arg.lower()
        if mode not in config.MODES:
            self.hint(f"usage: /mode {'|'.join(config.MODES)}")
            return
        self.mode = mode
        self.say(f"mode = {mode}", "dim")

    def set_reader(self, arg: str) -> None:
        if not arg:
            self.say(f"reader = {self.reader}")
            return
        reader = arg.lower()
        if reader not in config.READERS:
            self.hint(f"usage: /reader {'|'.join(config.READERS)}")
            return
        self.reader = reader
        what = "the cross-encoder picks the quoted sentences" if reader != "none" else \
            "the retrieval's sentence scores pick the quoted sentence"
        self.say(f"reader = {reader}: {what}", "dim")

    def reindex(self) -> None:
        from adapters.cli import print_report, progress_bar

        self.ready()
        try:
            if self.plain:
                report = self.bot.reindex()
            else:
                with progress_bar(self.console, "Embedding") as update:
                    report = self.bot.reindex(update)
        except QAError as exc:
            self.error(exc)
            return
        print_report(report, self.console)  # plain text when piped: rich writes no codes then


def _history(path: Path, err: Console) -> Any:
    from prompt_toolkit.history import FileHistory, InMemoryHistory

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(exist_ok=True)
        return FileHistory(str(path))
    except OSError as exc:
        err.print(safe_text(f"history is not kept: cannot write {path} ({exc.strerror})", "yellow", one_line=True))
        return InMemoryHistory()


def _interactive(chat: Chat, loader: Loader) -> int:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.formatted_text import FormattedText
    from prompt_toolkit.styles import Style

    session: PromptSession[str] = PromptSession(
        history=_history(chat.settings.history_file, chat.err),
        style=Style.from_dict({"prompt": "bold ansicyan"}),
    )
    message = FormattedText([("class:prompt", PROMPT)])

    def end_prompt() -> None:
        app = session.app
        if app.is_running and app.future is not None and not app.future.done():
            app.exit(exception=_LoadFailed())

    def on_load_error() -> None:  # runs in the loader thread
        loop = getattr(session.app, "loop", None)
        if session.app.is_running and loop is not None:
            loop.call_soon_threadsafe(end_prompt)

    def pre_run() -> None:
        if loader.error is not None:
            end_prompt()

    loader.on_error = on_load_error
    if loader.first_build:
        chat.say(f"No index yet: building one from {chat.settings.corpus} in the background (first run only).", "dim")
        chat.say(f"Ask about the articles in {chat.settings.corpus}. /help lists commands; Ctrl-D quits.", "dim")
    else:
        chat.say(f"Ask about the articles in the {chat.bot.target.where}. /help lists commands; Ctrl-D quits.", "dim")
    while True:
        if loader.error is not None:
            raise loader.error
        try:
            line = session.prompt(message, pre_run=pre_run)
        except KeyboardInterrupt:
            continue  # Ctrl-C drops the line being typed
        except EOFError:
            return 0
        except _LoadFailed:
            continue  # raised at the top of the loop
        try:
            if not chat.handle(line):
                return 0
        except KeyboardInterrupt:
            chat.say("(cancelled)", "dim")


def _piped(chat: Chat, stdin: TextIO) -> int:
    for line in stdin:
        try:
            if not chat.handle(line):
                break
        except KeyboardInterrupt:
            return 130
    return 0


def run_repl(settings: config.Settings) -> int:
    """Run the chat; returns the exit code. QAError from loading propagates (the CLI prints one line)."""
    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    if interactive:
        # Ctrl-C cancels a pending answer even when the chat was started from a shell that ignores it
        # (a background job inherits SIGINT ignored)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    console = Console(highlight=False)
    err = Console(stderr=True, highlight=False)
    bot = Bot(settings)
    bot.check_index()  # a missing, damaged or mismatched index fails before any prompt
    loader = Loader(bot)
    if not interactive and loader.first_build:
        print(terminal_safe(f"No index yet: building one from {settings.corpus} (first run only)…", one_line=True),
              file=sys.stderr, flush=True)
    loader.start()
    chat = Chat(bot, loader, console, err, plain=not interactive)
    try:
        code = _interactive(chat, loader) if interactive else _piped(chat, sys.stdin)
    finally:
        chat.close()
    if loader.running():
        # Quitting before the model finished loading: a daemon thread half-way through importing
        # torch can crash interpreter shutdown, so leave at once (the history is already on disk).
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code
