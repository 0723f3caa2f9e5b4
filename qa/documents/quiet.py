"""The parsers' own log lines kept off the user's screen: what pypdf repairs in a damaged PDF, what trafilatura
thinks of a page that is not a whole document (a feed entry's fragment) are notes for their developers, not
lines for someone asking a question, who gets each file's outcome instead."""

from __future__ import annotations

import logging

# the loggers of the libraries that read documents (trafilatura logs through its helpers' loggers too)
PARSER_LOGGERS = ("pypdf", "trafilatura", "htmldate", "courlan", "justext", "readability")


def quiet_parsers() -> None:
    """Give the parsers' loggers a handler that drops everything and stop them passing records to the root
    logger, where logging's last-resort handler would print them on stderr. Called at every read, not once:
    a logging configuration made since (a front end's `basicConfig`) may have reset it."""
    for name in PARSER_LOGGERS:
        log = logging.getLogger(name)
        log.propagate = False
        if not any(isinstance(h, logging.NullHandler) for h in log.handlers):
            log.addHandler(logging.NullHandler())
