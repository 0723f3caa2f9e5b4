"""`qa serve`: the bot loaded, then uvicorn serving the API and the page until Ctrl-C or SIGTERM."""

from __future__ import annotations

import ipaddress
import logging
import os
import signal
import socket

from adapters.common.exits import EXIT_USAGE
from adapters.common.ingest_view import load_bot
from adapters.common.safe import print_error, stderr_console
from qa.bot import Bot
from qa.config import Settings


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run_serve(settings: Settings, host: str, port: int, token: str | None) -> int:
    """Serve until stopped; a host other than loopback needs a token (flag or QA_SERVE_TOKEN)."""
    import uvicorn

    from adapters.http.app import create_app
    from adapters.http.malformed import JsonErrorsH11

    token = token or os.environ.get("QA_SERVE_TOKEN") or None
    if not is_loopback(host) and token is None:
        print_error(f"serving on {host} (not loopback) needs a token: --token or QA_SERVE_TOKEN")
        return EXIT_USAGE
    if not 0 <= port <= 65535:
        print_error(f"--port must be between 0 and 65535, got {port}")
        return EXIT_USAGE
    # the address is taken before the slow part (the model, the index), so a port in use fails at once
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        print_error(f"cannot listen on {host}:{port} ({exc.strerror or exc})")
        return EXIT_USAGE
    err = stderr_console()
    try:
        bot = load_bot(Bot(settings), err)
    except BaseException:
        sock.close()
        raise
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    sock.listen(2048)  # connections queue from now on, so "Serving at" is true as soon as it is printed
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    err.print(f"Serving at http://{shown}:{bound}/ (API docs at /docs{', bearer token required' if token else ''})",
              soft_wrap=True, highlight=False)
    config = uvicorn.Config(create_app(bot, token), log_level="warning", access_log=False, lifespan="off",
                            http=JsonErrorsH11, timeout_keep_alive=5)
    # uvicorn shuts down gracefully on SIGINT or SIGTERM, then raises the signal again under the handlers it
    # found; with these no-op ones, a stop is a clean exit (status 0), as for `qa slack`.
    previous = {sig: signal.signal(sig, lambda *_: None) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    err.print("stopped serving", highlight=False)
    return 0
