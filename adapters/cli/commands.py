"""The one-shot commands: `qa ingest`, `qa ask` and `qa check`."""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Iterator
from pathlib import Path

from rich.console import Console

from adapters.common.advice import with_advice
from adapters.common.exits import EXIT_ERROR
from adapters.common.ingest_view import ingest_exit_code, load_bot, print_report, progress_bar
from adapters.common.render import plain_answer, render_answer
from adapters.common.safe import input_lines, json_line, message_line, safe_text, stderr_console
from qa import config
from qa.bot import Bot
from qa.errors import InputError
from qa.index.open import target_for
from qa.text.cleaning import check_question, clean_question

INGEST_EPILOG = """\
Reads .txt, .md, .html/.htm/.xhtml, .pdf, .docx and .rss/.atom/.xml feeds. Files that cannot be
articles are skipped with a one-line warning and every other file is indexed: other formats, binary
files, empty files, files over 5 MB (50 MB for PDF and Word), scanned, encrypted or damaged PDFs,
damaged Word files, files over a reading limit (a zip bomb, a PDF stream that inflates past pypdf's
limits, too many pages or paragraphs), files that cannot be read (no permission, deleted during the
ingest, not a regular file) and broken or looping symlinks. A symlinked folder that leads back
to one of its parents is not followed. Text that is not UTF-8 is read as Windows-1252 (or Latin-1),
with a warning. A file that was indexed before and cannot be read now keeps its passages.

exit status:
  0    every file was indexed (or was already up to date)
  3    some files or paths were skipped; all the others were indexed
  1    nothing could be indexed, or the index cannot be written (a full disk: nothing is left behind)
  2    bad usage
  130  interrupted
"""


def settings_from(args: argparse.Namespace) -> config.Settings:
    """The command's flags over the `QA_*` environment variables over the defaults."""
    return config.Settings.from_env(index=getattr(args, "index", None), model=getattr(args, "model", None),
                          k=getattr(args, "k", None), mode=getattr(args, "mode", None),
                          backend=getattr(args, "backend", None), store=getattr(args, "store", None),
                          reader=getattr(args, "reader", None), reader_model=getattr(args, "reader_model", None),
                          vectors=getattr(args, "vectors", None))


def cmd_ingest(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    bot = Bot(settings)
    out = Console(highlight=False, soft_wrap=True)  # one line per file, whatever the path's length
    with progress_bar(stderr_console(), "Embedding") as update:
        report = bot.ingest([Path(p) for p in args.paths], rebuild=args.rebuild, progress=update)
    print_report(report, out)
    return ingest_exit_code(report)


def _questions(args: argparse.Namespace) -> Iterator[str]:
    if args.question:
        yield " ".join(args.question)
        return
    if sys.stdin.isatty():
        raise InputError('no question given: qa ask "QUESTION" (or pipe questions, one per line)')
    for line in input_lines(sys.stdin):
        if line.strip():
            yield line


def cmd_ask(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    if args.question:
        check_question(clean_question(" ".join(args.question)))  # a bad question fails before the model loads
    questions = (clean_question(q) for q in _questions(args))
    first = next(questions, None)  # no question at all is an error before the model loads
    if first is None:
        raise InputError("no question given: the input held no question (one per line)")
    err = stderr_console()
    bot = load_bot(Bot(settings), err)
    out = Console(highlight=False, soft_wrap=False)
    status = 0
    printed = False
    for q in itertools.chain([first], questions):
        try:
            answer = bot.ask(q)
        except InputError as exc:
            if args.question:
                raise
            err.print(message_line("error:", "red", with_advice(exc)), soft_wrap=True)
            status = EXIT_ERROR
            continue
        if args.json:
            print(json_line(answer.to_json()), flush=True)
        elif out.is_terminal:
            out.print(render_answer(answer))
        else:
            print(("\n" if printed else "") + plain_answer(answer), flush=True)  # a blank line between answers
            printed = True
    return status


def cmd_check(args: argparse.Namespace) -> int:
    """Verify the whole index: one line saying what was read, a warning per thing that could not be checked;
    damage is the one `error:` line of a damaged index (raised)."""
    settings = settings_from(args)
    found = target_for(settings).check()
    err = stderr_console()
    for note in found.notes:
        err.print(message_line("warning:", "yellow", note), soft_wrap=True)
    parts = f"{found.parts} segment{'s' if found.parts != 1 else ''}" if settings.store is None else "its tables"
    summed = (f"; {found.checked_bytes / (1024 * 1024):.1f} MB summed, every byte as written"
              if settings.store is None else "; every row consistent")
    Console(highlight=False, soft_wrap=True).print(safe_text(
        f"ok: {found.where}: {found.documents} documents, {found.passages} passages in {parts}{summed}"))
    return 0
