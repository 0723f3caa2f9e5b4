"""What the Slack bot logs: one line per failure, the libraries' chatter kept at bay, and never a token."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from adapters.slack.config import SlackConfig
from adapters.slack.webapi import api_logger

log = logging.getLogger("qa.slack")


LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"

class _NoClientTokenWarning(logging.Filter):
    """Bolt warns that SLACK_BOT_TOKEN in the environment is unused when a client is given: it is the client's."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("As you gave `client` as well")


class _OneLine(logging.Filter):
    """Bolt follows "Unhandled request (...)" with a many-line suggestion of code to write, and a request
    nobody handles can come from anyone: it is one line here, the request's kind, at DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message.startswith("Unhandled request"):
            record.msg, record.args = message.splitlines()[0][:200], None
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        return True


def _bolt_logger() -> logging.Logger:
    logger = logging.getLogger("slack_bolt.qa")
    for kind in (_NoClientTokenWarning, _OneLine):
        if not any(isinstance(f, kind) for f in logger.filters):
            logger.addFilter(kind())
    return logger


_TOKEN_LIKE = re.compile(r"\b(xox[a-z]|xapp)-[A-Za-z0-9-]+")


class RedactingFormatter(logging.Formatter):
    """A formatter that blanks the given secrets, and anything shaped like a Slack token, out of every line.

    The bot's own messages never hold them; this is for what libraries log, at DEBUG especially.
    """

    def __init__(self, secrets: Iterable[str], fmt: str = LOG_FORMAT) -> None:
        super().__init__(fmt)
        self.secrets = sorted({s for s in secrets if s and len(s) >= 8}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        """`text` with each secret replaced by [redacted]."""
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")
        return _TOKEN_LIKE.sub(lambda m: m.group(1) + "-[redacted]", text)

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))


def configure_logging(cfg: SlackConfig) -> None:
    """How `qa slack` logs: to stderr, from `cfg.log_level` up (the bot's own INFO lines too), secrets redacted."""
    logging.basicConfig(level=cfg.log_level, format=LOG_FORMAT)
    secrets = [s for s in (cfg.bot_token, cfg.app_token, cfg.signing_secret) if s]
    for handler in logging.getLogger().handlers:
        handler.setFormatter(RedactingFormatter(secrets, LOG_FORMAT))
    log.setLevel(min(cfg.log_level, logging.INFO))
    # slack_sdk's notes on each retry are INFO: shown when asked for, not among the bot's own INFO lines
    api_logger().setLevel(cfg.log_level)
