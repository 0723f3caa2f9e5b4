"""Time in questions about the news: "in January 2025", "in 2024", "latest" become a period or a recency wish."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_MONTH_YEAR = re.compile(r"\b(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?\s+(?:\d{1,2},?\s+)?((?:19|20)\d{2})\b", re.I)
_YEAR = re.compile(r"\b(?:in|during|since|of|for)\s+((?:19|20)\d{2})\b", re.I)
_RECENT = re.compile(r"\b(latest|most recent|recently|newest|last time|current(ly)?)\b", re.I)


@dataclass(frozen=True)
class TimeHint:
    """What a question says about when: a period (inclusive ISO dates) and/or a wish for the latest news."""

    start: str | None = None
    end: str | None = None
    latest: bool = False


def parse(question: str) -> TimeHint:
    """The time hint of a question; an empty hint when it names no time."""
    latest = bool(_RECENT.search(question))
    m = _MONTH_YEAR.search(question)
    if m:
        month, year = _MONTHS[m.group(1).lower()], int(m.group(2))
        last = calendar.monthrange(year, month)[1]
        return TimeHint(date(year, month, 1).isoformat(), date(year, month, last).isoformat(), latest)
    y = _YEAR.search(question)
    if y:
        return TimeHint(f"{y.group(1)}-01-01", f"{y.group(1)}-12-31", latest)
    return TimeHint(latest=latest)


def within(day: str | None, hint: TimeHint) -> bool | None:
    """Whether an article's date falls in the hint's period; None when either is unknown."""
    if day is None or hint.start is None or hint.end is None:
        return None
    # an article reports on days shortly before its date: allow a week after the period
    end = date.fromisoformat(hint.end).toordinal() + 7
    return hint.start <= day and date.fromisoformat(day).toordinal() <= end
