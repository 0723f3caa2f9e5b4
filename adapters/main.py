"""The `qa` command line: one parser for every command, each handed to its front end; a user's mistake is
one `error:` line and an exit status, never a traceback."""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence
from typing import NoReturn

from adapters.cli.commands import INGEST_EPILOG, cmd_ask, cmd_check, cmd_ingest, settings_from
from adapters.common.advice import with_advice
from adapters.common.exits import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_USAGE
from adapters.common.safe import print_error, stderr_console
from qa import config
from qa.errors import QAError


def cmd_eval(args: argparse.Namespace) -> int:
    from adapters.cli.eval_report import run_eval

    return run_eval(args, settings_from(args))


def cmd_watch(args: argparse.Namespace) -> int:
    from adapters.cli.watch import cmd_watch as watch

    return watch(args)


def cmd_repl(args: argparse.Namespace) -> int:
    from adapters.repl.app import run_repl

    return run_repl(settings_from(args))


def cmd_slack(args: argparse.Namespace) -> int:
    from adapters.slack.run import run_slack

    return run_slack(settings_from(args), http=args.http, port=args.port)


def cmd_serve(args: argparse.Namespace) -> int:
    from adapters.http.run import run_serve

    return run_serve(settings_from(args), host=args.host, port=args.port, token=args.token)


def cmd_mcp(args: argparse.Namespace) -> int:
    from adapters.mcp.server import run_mcp

    return run_mcp(settings_from(args))


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
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="article files (.txt, .md, .html, .pdf, .docx, .rss, .atom), or folders")
    p.add_argument("--rebuild", action="store_true", help="re-embed everything (e.g. after changing --model)")
    p.add_argument("--vectors", choices=config.VECTORS,
                   help="sentences (default): each sentence through the model once, windows and passages derived "
                        "from them; full: passages and windows embedded too, about 3 times slower (env QA_VECTORS)")
    common(p)
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("watch", help="ingest folders, then keep the index in step with them until Ctrl-C")
    p.add_argument("paths", nargs="+", metavar="FOLDER", help="folders of articles to watch")
    common(p)
    p.set_defaults(func=cmd_watch)

    p = sub.add_parser("ask", help="answer one question, or one per line from stdin")
    p.add_argument("question", nargs="*", help="the question (omit to read questions from stdin)")
    p.add_argument("--k", type=int, metavar="N",
                   help=f"passages to cite, {config.MIN_K} to {config.MAX_K} (env QA_K; default {config.DEFAULT_K})")
    p.add_argument("--mode", choices=config.MODES, help="retrieval mode (env QA_MODE; default hybrid)")
    p.add_argument("--json", action="store_true", help="print one JSON object per question")
    common(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("check", help="verify a whole index: every byte of a local one, every row of a PostgreSQL store")
    common(p)
    p.set_defaults(func=cmd_check)

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

    p = sub.add_parser("serve", help="serve the HTTP API and the web page (uvicorn)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; any other needs a token)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    p.add_argument("--token", metavar="TOKEN", help="bearer token every /api request must carry (env QA_SERVE_TOKEN)")
    common(p)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("mcp", help="serve the articles to an AI assistant over MCP (stdio)")
    common(p)
    p.set_defaults(func=cmd_mcp)
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
        print_error(with_advice(exc))
        return EXIT_ERROR
    except KeyboardInterrupt:
        stderr_console().print("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 0


def entry() -> None:
    """The `qa` command. Libraries' warnings (deprecations, a missing XDG_RUNTIME_DIR…) are for their
    developers, not for someone asking a question: they are silenced unless PYTHONWARNINGS asks for them."""
    if not sys.warnoptions:
        warnings.simplefilter("ignore")
    sys.exit(main())
