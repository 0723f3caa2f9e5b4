"""The `qa` command line: ingest, ask, eval, repl and slack, with one-line errors and exit codes."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from adapters.render import plain_answer, render_answer
from qa import config
from qa.bot import Bot, check_question
from qa.errors import InputError, QAError, SourceError
from qa.ingest import IngestReport
from qa.ingest import Progress as ProgressFn

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def _stderr() -> Console:
    return Console(stderr=True, highlight=False)


@contextmanager
def progress_bar(console: Console, label: str) -> Iterator[ProgressFn]:
    """A rich progress bar for embedding; it only appears once there is work to show."""
    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def print_report(report: IngestReport, console: Console) -> None:
    """What an ingest did, a line per changed document, then a summary; errors go to stderr."""
    from qa.answer import display_source

    for e in report.errors:
        _stderr().print(f"[red]error:[/] {e}", soft_wrap=True)
    if report.errors and not (report.changed or report.skipped):
        return  # nothing was read: the error lines say it all
    for label, items, style in (("added", report.added, "green"), ("updated", report.updated, "yellow"),
                                ("removed", report.removed, "red")):
        for s in items:
            console.print(f"[{style}]{label:>8}[/] {display_source(s)}")
    console.print(
        f"{len(report.added)} added, {len(report.updated)} updated, {len(report.removed)} removed, "
        f"{len(report.skipped)} unchanged; {report.passages} passages in the index"
    )


def _settings(args: argparse.Namespace) -> config.Settings:
    return config.resolve(index=getattr(args, "index", None), model=getattr(args, "model", None),
                          k=getattr(args, "k", None), mode=getattr(args, "mode", None))


def load_bot(settings: config.Settings, console: Console) -> Bot:
    """A bot with its index open; on a first run the index is built from the corpus, with progress."""
    bot = Bot(settings)
    if bot.needs_first_build():
        console.print(f"No index yet: building one from {settings.corpus} (first run only)…")
        with progress_bar(console, "Embedding") as update:
            report = bot.reindex(update)
        if report.errors and not report.passages:
            raise SourceError(f"cannot build the index from {settings.corpus}: {report.errors[0]}")
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
    return EXIT_ERROR if report.errors else 0


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
        check_question(" ".join(args.question))  # a bad question fails before the model loads
    questions = _questions(args)
    err = _stderr()
    bot = load_bot(settings, err)
    out = Console(highlight=False, soft_wrap=False)
    status = 0
    for q in questions:
        try:
            answer = bot.ask(q)
        except InputError as exc:
            if args.question:
                raise
            err.print(f"[red]error:[/] {exc}")
            status = EXIT_ERROR
            continue
        if args.json:
            print(json.dumps(answer.to_json(), ensure_ascii=False), flush=True)
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
        _stderr().print(f"[red]error:[/] {message} (see `{self.prog} --help`)", soft_wrap=True)
        sys.exit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="qa", description="Ask questions of a folder of articles; every answer cites its source.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--index", metavar="DIR", help="index folder (env QA_INDEX; default ~/.local/share/qa/index)")
        p.add_argument("--model", metavar="NAME", help="sentence-transformers model name or path (env QA_MODEL)")

    p = sub.add_parser("ingest", help="add or update articles in the index (incremental)")
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
        _stderr().print(f"[red]error:[/] {exc}", soft_wrap=True)
        return EXIT_ERROR
    except KeyboardInterrupt:
        _stderr().print("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 0


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()
