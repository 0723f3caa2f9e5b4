"""The Slack bot's settings from the environment: its tokens and signing secret, checked for shape."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from adapters.slack.webapi import DEFAULT_API_URL
from qa.errors import ConfigError

LOG_LEVELS = {"DEBUG": logging.DEBUG, "INFO": logging.INFO, "WARNING": logging.WARNING, "ERROR": logging.ERROR}


@dataclass(frozen=True)
class Access:
    """Where the bot answers and whom: channel ids (None: every channel), user ids (None: everyone), and
    whether direct messages are answered."""

    channels: frozenset[str] | None = None
    users: frozenset[str] | None = None
    direct_messages: bool = True

    def allows(self, channel: str, user: str, direct: bool) -> bool:
        if direct and not self.direct_messages:
            return False
        if not direct and self.channels is not None and channel not in self.channels:
            return False
        return self.users is None or user in self.users


_ID = re.compile(r"^[A-Z0-9]{2,}$")


def _ids(env: Mapping[str, str], name: str, what: str) -> frozenset[str] | None:
    raw = (env.get(name) or "").strip()
    if raw in ("", "*"):
        return None
    ids = [x.strip() for x in raw.split(",") if x.strip()]
    bad = [x for x in ids if not _ID.match(x)]
    if bad or not ids:
        raise ConfigError(f"{name} must be {what} ids separated by commas, or *, got {bad[0] if bad else raw!r}")
    return frozenset(ids)


def read_access(env: Mapping[str, str] | None = None) -> Access:
    """QA_SLACK_CHANNELS (ids or *; default *), QA_SLACK_USERS (ids; default everyone), QA_SLACK_DMS (yes/no)."""
    env = os.environ if env is None else env
    dms = (env.get("QA_SLACK_DMS") or "yes").strip().lower()
    if dms not in ("yes", "no", "true", "false", "1", "0"):
        raise ConfigError(f"QA_SLACK_DMS must be yes or no, got {dms!r}")
    return Access(_ids(env, "QA_SLACK_CHANNELS", "channel"), _ids(env, "QA_SLACK_USERS", "user"),
                  dms in ("yes", "true", "1"))


@dataclass(frozen=True)
class SlackConfig:
    """The credentials and endpoint of one run, read from the environment."""

    bot_token: str
    app_token: str | None
    signing_secret: str | None
    api_url: str
    log_level: int = logging.WARNING
    access: Access = Access()


_TOKEN = re.compile(r"^[A-Za-z0-9-]+$")
_SECRET = re.compile(r"^[0-9a-fA-F]{16,}$")


def _token(env: Mapping[str, str], name: str, prefix: str, what: str, where: str) -> str:
    value = (env.get(name) or "").strip()
    if not value:
        raise ConfigError(f"{name} is not set: export your Slack app's {what} ({prefix}…), from {where}")
    if not value.startswith(prefix) or len(value) <= len(prefix) or not _TOKEN.match(value):
        raise ConfigError(f"{name} is malformed: the {what} starts with {prefix} (from {where})")
    return value


def read_config(env: Mapping[str, str] | None = None, http: bool = False) -> SlackConfig:
    """The Slack settings from the environment, or ConfigError naming the variable that is missing or wrong."""
    env = os.environ if env is None else env
    bot_token = _token(env, "SLACK_BOT_TOKEN", "xoxb-", "Bot User OAuth Token", "OAuth & Permissions")
    app_token = secret = None
    if http:
        secret = (env.get("SLACK_SIGNING_SECRET") or "").strip()
        if not secret:
            raise ConfigError("SLACK_SIGNING_SECRET is not set: export your Slack app's Signing Secret, "
                              "from Basic Information > App Credentials (needed with --http)")
        if not _SECRET.match(secret):
            raise ConfigError("SLACK_SIGNING_SECRET is malformed: the Signing Secret is hexadecimal "
                              "(from Basic Information > App Credentials)")
    else:
        app_token = _token(env, "SLACK_APP_TOKEN", "xapp-", "App-Level Token",
                           "Basic Information > App-Level Tokens, with scope connections:write; or run with --http")
    api_url = (env.get("SLACK_API_URL") or "").strip() or DEFAULT_API_URL
    parts = urlsplit(api_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"SLACK_API_URL is malformed: expected an http(s) URL such as {DEFAULT_API_URL}, got {api_url!r}")
    level = (env.get("QA_SLACK_LOG_LEVEL") or "").strip().upper() or "WARNING"
    if level not in LOG_LEVELS:
        raise ConfigError(f"QA_SLACK_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {level!r}")
    return SlackConfig(bot_token, app_token, secret, api_url.rstrip("/") + "/", LOG_LEVELS[level], read_access(env))
