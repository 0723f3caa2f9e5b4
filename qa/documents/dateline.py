"""The date an article states about itself: in its dateline ("NAIROBI, May 12, 2025 —") or its byline ("By Jane
Doe | May 2025") near its top. It wins over a file's metadata, which says when the file was made, not when the
article was written (a PDF exported today from last year's report)."""

from __future__ import annotations

import calendar
import re
from datetime import date

_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9
_MONTH = "(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"((?:19|20)\d{2})"
# the forms a dateline or byline writes a date in, most precise first; each a whole word
_FORMS = [
    ("ymd", re.compile(rf"(?<!\d){_YEAR}-(\d{{2}})-(\d{{2}})(?!\d)")),
    ("mdy", re.compile(rf"\b{_MONTH}\s+{_DAY},?\s+{_YEAR}\b", re.I)),
    ("dmy", re.compile(rf"\b{_DAY}\s+{_MONTH},?\s+{_YEAR}\b", re.I)),
    ("my", re.compile(rf"\b{_MONTH},?\s+{_YEAR}\b", re.I)),
]
LINES_LOOKED_AT = 6  # a dateline or byline comes before the article's first few paragraphs
SHORT_LINE_WORDS = 12  # a byline, a dateline of its own, a "Published" line
# a paragraph that opens with its dateline: a place (or nothing), the date, then a dash
_OPENING = re.compile(r"^(?:[A-Z][\w .'’-]{0,40},\s*)?(?P<date>[^—–-]{4,40}?)\s*(?:\(\w+\)\s*)?[—–-]")


def find_date(text: str) -> str | None:
    """The first date written in `text` with its year, as `YYYY-MM-DD`; a month alone ("May 2025") is read as
    its first day. None when there is none (or it is no real date)."""
    found: list[tuple[int, str]] = []
    for kind, pattern in _FORMS:
        m = pattern.search(text)
        if m is None:
            continue
        try:
            if kind == "ymd":
                day = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            elif kind == "mdy":
                day = date(int(m.group(3)), _MONTHS[m.group(1).lower()], int(m.group(2)))
            elif kind == "dmy":
                day = date(int(m.group(3)), _MONTHS[m.group(2).lower()], int(m.group(1)))
            else:
                day = date(int(m.group(2)), _MONTHS[m.group(1).lower()], 1)
        except ValueError:  # the 31st of April
            continue
        found.append((m.start(), day.isoformat()))
        if kind != "my":
            break  # a full date: a month-and-year match would only be a part of it
    return min(found)[1] if found else None


def stated_date(lines: list[str]) -> str | None:
    """The date an article's first lines state: a short line that holds a date (a byline, a dateline), or the
    dateline a paragraph opens with. None when they state none."""
    seen = 0
    for line in lines:
        text = line.strip()
        if not text:
            continue
        seen += 1
        if seen > LINES_LOOKED_AT:
            break
        if len(text.split()) <= SHORT_LINE_WORDS:
            day = find_date(text)
        else:
            opening = _OPENING.match(text)
            day = find_date(opening.group("date")) if opening else None
        if day is not None:
            return day
    return None
