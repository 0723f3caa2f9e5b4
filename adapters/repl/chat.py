"""One conversation in the terminal chat: questions and follow-ups, the commands, and how answers are shown."""

from __future__ import annotations

import sys
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from adapters.common.advice import with_advice
from adapters.common.conversation import Turn, kept, remember
from adapters.common.ingest_view import print_report, progress_bar, slow_path_warning
from adapters.common.render import citation_header, excerpt, plain_answer, render_answer
from adapters.common.safe import safe_text, terminal_safe
from adapters.repl.loader import Loader
from qa import config
from qa.answering.answer import Answer, Citation
from qa.bot import Bot
from qa.errors import QAError
from qa.text.cleaning import check_question, clean_question

PROMPT = "› "


def _usage_lines(settings: config.Settings, k: int, mode: str, reader: str) -> list[tuple[str, str]]:
    return [
        ("/sources N", "full text of source N of the last answer"),
        ("/k N", f"cite N passages, {config.MIN_K} to {config.MAX_K} (now {k})"),
        ("/mode M", f"retrieval: {', '.join(config.MODES)} (now {mode})"),
        ("/reader R", f"who picks the quoted sentence: {', '.join(config.READERS)} (now {reader})"),
        ("/reset", "forget the conversation; the next question stands alone"),
        ("/reindex", "re-read the files and folders the index was built from, embedding only what changed"),
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
        self.turns: list[Turn] = []  # the conversation's last turns (adapters.common.conversation)
        self.last: Answer | None = None
        self.k = self.settings.k
        self.mode = self.settings.mode
        self.reader = self.settings.reader
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qa-ask")
        self._warned = False  # the slow-path warning is given once, when the model has loaded

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

    def error(self, exc: QAError) -> None:
        said = with_advice(exc, chat=True)
        if self.plain:
            print(f"error: {terminal_safe(said, one_line=True)}", file=sys.stderr, flush=True)
        else:
            self.err.print(Text.assemble(("error:", "red"), " ", safe_text(said, one_line=True)))

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
        if not self._warned:
            self._warned = True
            if (note := slow_path_warning(self.bot)) is not None:
                if self.plain:
                    print(f"warning: {terminal_safe(note, one_line=True)}", file=sys.stderr, flush=True)
                else:
                    self.err.print(Text.assemble(("warning:", "yellow"), " ", safe_text(note, one_line=True)))

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
        future = self._pool.submit(self.bot.ask, question, history=kept(self.turns), k=self.k, mode=self.mode,
                                   reader=self.reader)
        try:
            answer: Answer = self._wait(future)
        except QAError as exc:
            self.error(exc)
            return
        self.turns = remember(self.turns, answer)
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
        numbers = sorted(c.n for c in sources)
        which = f"source {numbers[0]}" if len(numbers) == 1 else f"sources {numbers[0]} to {numbers[-1]}"
        try:
            n = int(arg)
        except ValueError:
            self.hint(f"usage: /sources N (the last answer has {which})")
            return
        match = [c for c in sources if c.n == n]
        if not match:
            self.hint(f"no source {n}: the last answer has {which}")
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
        if not config.MIN_K <= k <= config.MAX_K:
            self.hint(f"usage: /k N, with N a whole number from {config.MIN_K} to {config.MAX_K}")
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
