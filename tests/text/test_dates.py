"""Time in questions: a month and year, a year, or a wish for the latest news, and whether a date falls in it."""

from __future__ import annotations

import pytest

from qa.text.dates import TimeHint, parse, within


@pytest.mark.parametrize(
    ("question", "hint"),
    [
        ("Who did Ruto call in January 2025?", TimeHint("2025-01-01", "2025-01-31")),
        ("What happened in Feb. 2024?", TimeHint("2024-02-01", "2024-02-29")),  # a leap year
        ("What was agreed on March 3, 2025?", TimeHint("2025-03-01", "2025-03-31")),
        ("What did Kenya export in 2023?", TimeHint("2023-01-01", "2023-12-31")),
        ("What is the latest on the Haiti mission?", TimeHint(latest=True)),
        ("What did they say most recently in 2024?", TimeHint("2024-01-01", "2024-12-31", latest=True)),
        ("Who is the 47th president?", TimeHint()),
        ("How many officers did 2024 bring?", TimeHint()),  # a bare year is not a period
    ],
)
def test_parse(question: str, hint: TimeHint) -> None:
    assert parse(question) == hint


def test_within_allows_a_week_of_reporting_after_the_period() -> None:
    january = parse("in January 2025")
    assert within("2025-01-15", january) is True
    assert within("2025-02-07", january) is True and within("2025-02-08", january) is False
    assert within("2024-12-31", january) is False
    assert within(None, january) is None and within("2025-01-15", TimeHint(latest=True)) is None
