"""`qa watch PATH...`: an incremental ingest, then one more for every burst of changes in the folders, a line
per changed article, until Ctrl-C."""

from __future__ import annotations

import argparse
import threading
from pathlib import Path

from rich.console import Console

from adapters.cli.commands import settings_from
from adapters.common.exits import EXIT_ERROR
from adapters.common.ingest_view import nothing_read, print_report, progress_bar
from adapters.common.safe import print_error, stderr_console
from qa.bot import Bot
from qa.index.watching import watch_changes


def cmd_watch(args: argparse.Namespace, stop: threading.Event | None = None) -> int:
    """Watch `args.paths` and keep the index in step with them; `stop` ends the watch (Ctrl-C does too)."""
    settings = settings_from(args)
    paths = [Path(p) for p in args.paths]
    missing = [str(p) for p in paths if not p.is_dir()]
    if missing:
        print_error(f"{missing[0]}: not a folder (qa watch watches folders)")
        return EXIT_ERROR
    bot = Bot(settings)
    out = Console(highlight=False, soft_wrap=True)
    ignore = [] if settings.store else [settings.index_dir]
    changes = watch_changes(paths, stop=stop, ignore=ignore)
    try:
        next(changes)  # watching has begun: nothing written from now on is missed, even during the first ingest
        with progress_bar(stderr_console(), "Embedding") as update:
            report = bot.ingest(paths, progress=update)
        print_report(report, out)
        if nothing_read(report) and not any(p.exists() for p in paths):
            return EXIT_ERROR
        out.print(f"watching {', '.join(str(p) for p in paths)} (Ctrl-C stops)")
        for changed in changes:
            report = bot.ingest_changed(changed)
            if report.changed or report.errors:
                print_report(report, out, final=False)
    except (KeyboardInterrupt, StopIteration):
        pass
    finally:
        changes.close()
    out.print("stopped watching")
    return 0
