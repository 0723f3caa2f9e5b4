"""What the terminal shows of an ingest: a progress bar, a line per changed article, one line per skipped
file; and loading a bot with its first-run build shown the same way by every front end."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from adapters.common.exits import EXIT_ERROR, EXIT_SKIPPED
from adapters.common.safe import message_line, safe_text, stderr_console
from qa.answering.answer import display_source
from qa.bot import Bot
from qa.embedding import fallback_note
from qa.index.pipeline import IngestReport
from qa.index.pipeline import Progress as ProgressFn


@contextmanager
def progress_bar(console: Console, label: str) -> Iterator[ProgressFn]:
    """A rich progress bar for embedding; it only appears once there is work to show, and only on a terminal."""
    if not console.is_terminal:  # a log or a pipe would get a stray blank line and nothing useful
        yield lambda done, total: None
        return
    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def nothing_read(report: IngestReport) -> bool:
    """True when an ingest had problems and read no file at all."""
    return bool(report.errors) and not (report.changed or report.skipped)


def ingest_exit_code(report: IngestReport) -> int:
    """0 when every file was indexed, EXIT_SKIPPED when some were skipped, EXIT_ERROR when none could be."""
    if not report.errors:
        return 0
    return EXIT_ERROR if nothing_read(report) else EXIT_SKIPPED


def print_report(report: IngestReport, console: Console, *, final: bool = True) -> None:
    """What an ingest did, a line per changed document, then a summary; problems go to stderr, a line each.

    When nothing could be read the problems are errors and nothing else is printed; otherwise each
    is a warning naming what was skipped. Not `final` (one of `qa watch`'s bursts, after which it goes on
    watching), every problem is a file skipped.
    """
    err = stderr_console()
    failed = final and nothing_read(report)
    for e in report.errors:
        if failed:
            err.print(message_line("error:", "red", e), soft_wrap=True)
        else:
            err.print(message_line("warning:", "yellow", f"skipped {e}"), soft_wrap=True)
    for w in getattr(report, "warnings", ()):  # files read, but not quite as written (IngestReport.warnings)
        err.print(message_line("warning:", "yellow", w), soft_wrap=True)
    if failed:
        return  # nothing was read: the error lines say it all
    for label, items, style in (("added", report.added, "green"), ("updated", report.updated, "yellow"),
                                ("removed", report.removed, "red")):
        for s in items:
            console.print(message_line(f"{label:>8}", style, display_source(s)))
    skipped = f"; {len(report.errors)} skipped" if report.errors else ""
    console.print(
        f"{len(report.added)} added, {len(report.updated)} updated, {len(report.removed)} removed, "
        f"{len(report.skipped)} unchanged{skipped}; {report.passages} passages in the index"
    )


def load_bot(bot: Bot, console: Console) -> Bot:
    """`bot` with its index open; on a first run the index is built from the corpus, with progress."""
    settings = bot.settings
    if bot.needs_first_build():
        console.print(safe_text(f"No index yet: building one from {settings.corpus} (first run only)…", one_line=True))
        with progress_bar(console, "Embedding") as update:
            report = bot.build_if_missing(update)
        if report is not None:
            print_report(report, console)
    with console.status("Loading the model…"):
        bot.load()
    if (note := slow_path_warning(bot)) is not None:
        stderr_console().print(message_line("warning:", "yellow", note), soft_wrap=True)
    return bot


def slow_path_warning(bot: Bot) -> str | None:
    """The warning for a loaded bot whose questions are embedded with torch though ONNX was asked for."""
    note = fallback_note(bot.embedder)
    return f"{note}; run qa ingest to export" if note else None
