"""A feed entry's date: its publication date, else its update date, else none; a date feedparser cannot read
costs the entry its date, never a warning that strict settings turn into an unread feed."""

from __future__ import annotations

import warnings
from pathlib import Path

from qa.documents import load_path
from tests.support.article_files import atom, rss

BODY = "<p>Kenya and the United States signed a fisheries pact in Mombasa on Monday.</p>"


def _dates(feed: Path) -> list[str | None]:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # as under `python -W error`
        docs, problems = load_path(feed)
    assert problems == []
    return [d.date for d in docs]


def test_an_entry_with_an_unreadable_date_is_read_without_one(tmp_path: Path) -> None:
    feed = tmp_path / "news.rss"
    feed.write_text(rss([("a", "Pact signed", "not a date", BODY),
                         ("b", "Pact signed again", "Mon, 10 Mar 2025 08:00:00 GMT", BODY)]), encoding="utf-8")
    assert _dates(feed) == [None, "2025-03-10"]


def test_an_entry_with_only_an_update_date_is_dated_by_it(tmp_path: Path) -> None:
    feed = tmp_path / "wire.atom"
    feed.write_text(atom([("e1", "Pact signed", "2025-03-11T08:00:00Z", BODY)]), encoding="utf-8")
    assert _dates(feed) == ["2025-03-11"]
