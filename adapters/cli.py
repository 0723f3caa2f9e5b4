"""The `qa` command line: ingest, ask, eval, repl and slack, with one-line errors and exit codes."""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.text import Text

from adapters.render import clean_question, json_line, plain_answer, render_answer, safe_text
from qa import config
from qa.bot import Bot
from qa.errors import InputError, QAError
from qa.index.pipeline import IngestReport
from qa.index.pipeline import Progress as ProgressFn
from qa.text.cleaning import check_question

EXIT_ERROR = 1  # nothing done: a bad question, no index, no file that could be read
EXIT_USAGE = 2
EXIT_SKIPPED = 3  # `qa ingest` indexed what it could read but skipped something
EXIT_INTERRUPTED = 130

INGEST_EPILOG = """\
Files that cannot be articles are skipped with a one-line warning and every other file is indexed:
binary files, empty files, files over 5 MB, files that cannot be read (no permission, deleted during
the ingest, not a regular file) and broken or looping symlinks. A symlinked folder that leads back
to one of its parents is not followed. Text that is not UTF-8 is read as Windows-1252 (or Latin-1),
with a warning. A file that was indexed before and cannot be read now keeps its passages.

exit status:
  0    every file was indexed (or was already up to date)
  3    some files or paths were skipped; all the others were indexed
  1    nothing could be indexed
  2    bad usage
  130  interrupted
"""


def _stderr() -> Console:
    return Console(stderr=True, highlight=False)


def message_line(label: str, style: str, message: str) -> Text:
    """`label message` on one line, the message printed as it is: no markup, no control characters."""
    return Text.assemble((label, style), " ", safe_text(message, one_line=True))


def print_error(message: str) -> None:
    """The one `error:` line on stderr that every user mistake gets."""
    _stderr().print(message_line("error:", "red", message), soft_wrap=True)


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


def print_report(report: IngestReport, console: Console) -> None:
    """What an ingest did, a line per changed document, then a summary; problems go to stderr, a line each.

    When nothing could be read the problems are errors and nothing else is printed; otherwise each
    is a warning naming what was skipped.
    """
    from qa.answering.answer import display_source

    err = _stderr()
    failed = nothing_read(report)
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


def _settings(args: argparse.Namespace) -> config.Settings:
    return config.resolve(index=getattr(args, "index", None), model=getattr(args, "model", None),
                          k=getattr(args, "k", None), mode=getattr(args, "mode", None),
                          backend=getattr(args, "backend", None), store=getattr(args, "store", None),
                          reader=getattr(args, "reader", None), reader_model=getattr(args, "reader_model", None))


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
    return bot


def cmd_ingest(args: argparse.Namespace) -> int:
    settings = _settings(args)
    bot = Bot(settings)
    out = Console(highlight=False, soft_wrap=True)  # one line per file, whatever the path's length
    with progress_bar(_stderr(), "Embedding") as update:
        report = bot.ingest([Path(p) for p in args.paths], rebuild=args.rebuild, progress=update)
    print_report(report, out)
    return ingest_exit_code(report)


def _questions(args: argparse.Namespace) -> Iterator[str]:
    if args.question:
        yield " ".join(args.question)
        return
    if sys.stdin.isatty():
        raise InputError('no question given: qa ask "QUESTION" (or pipe questions, one per line)')
    for line in sys.stdin:
        if line.strip():
            yield line.rstrip("\n")


def cmd_ask(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if args.question:
        check_question(clean_question(" ".join(args.question)))  # a bad question fails before the model loads
    questions = (clean_question(q) for q in _questions(args))
    err = _stderr()
    bot = load_bot(Bot(settings), err)
    out = Console(highlight=False, soft_wrap=False)
    status = 0
    for q in questions:
        try:
            answer = bot.ask(q)
        except InputError as exc:
            if args.question:
                raise
            err.print(message_line("error:", "red", str(exc)), soft_wrap=True)
            status = EXIT_ERROR
            continue
        if args.json:
            print(json_line(answer.to_json()), flush=True)
        elif out.is_terminal:
            out.print(render_answer(answer))
        else:
            print(plain_answer(answer), flush=True)
    return status


def cmd_eval(args: argparse.Namespace) -> int:
    from adapters.eval_report import run_eval

    return run_eval(args, _settings(args))


def cmd_repl(args: argparse.Namespace) -> int:
    from adapters.repl import run_repl

    return run_repl(_settings(args))


def cmd_slack(args: argparse.Namespace) -> int:
    from adapters.slack_app import run_slack

    return run_slack(_settings(args), http=args.http, port=args.port)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one `error:` line like every other error."""

    def error(self, message: str) -> NoReturn:
        print_error(f"{message} (see `{self.prog} --help`)")
        sys.exit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="qa", description="Ask questions of a folder of articles; every answer cites its source.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--index", metavar="DIR", help="index folder (env QA_INDEX; default ~/.local/share/qa/index)")
        p.add_argument("--model", metavar="NAME", help="sentence-transformers model name or path (env QA_MODEL)")
        p.add_argument("--backend", choices=config.BACKENDS,
                       help="how texts are embedded (env QA_BACKEND; default onnx: the model's ONNX export, no torch)")
        p.add_argument("--store", metavar="URL",
                       help="keep the passages in PostgreSQL with pgvector, e.g. postgresql://host/db (env QA_STORE)")
        p.add_argument("--reader", choices=config.READERS,
                       help="who picks the quoted sentence (env QA_READER; default cross-encoder; none: retrieval alone)")
        p.add_argument("--reader-model", metavar="PATH",
                       help="a cross-encoder folder, ONNX or sentence-transformers (env QA_READER_MODEL; "
                            "default the bundled ms-marco-MiniLM-L-12-v2)")

    p = sub.add_parser("ingest", help="add or update articles in the index (incremental)",
                       epilog=INGEST_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("paths", nargs="+", metavar="PATH", help=".txt, .md or .html files, or folders")
    p.add_argument("--rebuild", action="store_true", help="re-embed everything (e.g. after changing --model)")
    common(p)
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("ask", help="answer one question, or one per line from stdin")
    p.add_argument("question", nargs="*", help="the question (omit to read questions from stdin)")
    p.add_argument("--k", type=int, metavar="N", help="passages to cite (env QA_K; default 3)")
    p.add_argument("--mode", choices=config.MODES, help="retrieval mode (env QA_MODE; default hybrid)")
    p.add_argument("--json", action="store_true", help="print one JSON object per question")
    common(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("eval", help="score the bot on a question set (JSONL or SQuAD JSON)")
    p.add_argument("file", help="question set: .jsonl ({q, src, key}) or SQuAD 2.0 .json")
    p.add_argument("--k", type=int, metavar="N", help="passages retrieved per question")
    p.add_argument("--split", choices=("all", "tune", "test"), default="all",
                   help="SQuAD questions to score: all, or the tuning or test half")
    p.add_argument("--no-baselines", action="store_true", help="skip the baseline recipes")
    common(p)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("repl", help="chat with the articles in the terminal")
    common(p)
    p.set_defaults(func=cmd_repl)

    p = sub.add_parser("slack", help="run the Slack bot (Socket Mode, or --http)")
    p.add_argument("--http", action="store_true", help="serve the Events API over HTTP instead of Socket Mode")
    p.add_argument("--port", type=int, default=3000, help="HTTP port (with --http; default 3000)")
    common(p)
    p.set_defaults(func=cmd_slack)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.func(args))
    except QAError as exc:
        print_error(str(exc))
        return EXIT_ERROR
    except KeyboardInterrupt:
        _stderr().print("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 0


def entry() -> None:
    """The `qa` command. Libraries' warnings (deprecations, a missing XDG_RUNTIME_DIR…) are for their
    developers, not for someone asking a question: they are silenced unless PYTHONWARNINGS asks for them."""
    if not sys.warnoptions:
        warnings.simplefilter("ignore")
    sys.exit(main())


if __name__ == "__main__":
    entry()
