"""`--since` parsing for `reporter-app stats`."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from reporter_app.tracking.commands import parse_since

from .conftest import T0


@pytest.mark.parametrize(("text", "expected"), [
    ("30d", T0 - timedelta(days=30)),
    ("2w", T0 - timedelta(weeks=2)),
    ("1d12h", T0 - timedelta(hours=36)),
    ("2026-01-01", datetime(2026, 1, 1, tzinfo=timezone.utc)),
    ("2026-01-01T09:30Z", datetime(2026, 1, 1, 9, 30, tzinfo=timezone.utc)),
    ("2026-01-01T09:30+01:00", datetime(2026, 1, 1, 8, 30, tzinfo=timezone.utc)),
])
def test_parse_since(text, expected):
    assert parse_since(text, T0) == expected


@pytest.mark.parametrize("text", ["yesterday", "2bd", "01/02/2026", ""])
def test_parse_since_rejects_with_a_usage_hint(text):
    with pytest.raises(ValueError, match="expected like 30d"):
        parse_since(text, T0)
