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
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console

from adapters.common.safe import input_lines, safe_text, terminal_safe
from adapters.repl.chat import PROMPT, Chat
from adapters.repl.loader import Loader, LoadFailed
from qa import config
from qa.bot import Bot


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
            app.exit(exception=LoadFailed())

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
        except LoadFailed:
            continue  # raised at the top of the loop
        try:
            if not chat.handle(line):
                return 0
        except KeyboardInterrupt:
            chat.say("(cancelled)", "dim")


def _piped(chat: Chat, stdin: TextIO) -> int:
    for line in input_lines(stdin):
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
