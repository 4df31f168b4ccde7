"""One retry-after parser for the jobs poller, error messages and the chat's 429 notice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from tui.errors import retry_after


def test_milliseconds_win_over_seconds() -> None:
    assert retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5


def test_seconds() -> None:
    assert retry_after({"retry-after": "2"}) == 2.0


def test_an_http_date_is_the_time_until_then() -> None:
    later = datetime.now(UTC) + timedelta(seconds=30)
    wait = retry_after({"retry-after": format_datetime(later, usegmt=True)})
    assert wait is not None and 25 <= wait <= 30


def test_unreadable_or_missing_is_none_and_never_negative() -> None:
    assert retry_after({"retry-after": "soon"}) is None
    assert retry_after({}) is None
    assert retry_after({"retry-after": "-5"}) == 0.0
