"""Builders for tracking unit tests: statuses and tickets without a tracker or a disk beyond tmp_path."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from reporter_app.clock import FakeClock
from reporter_app.trackers.base import Comment, TicketRef, TicketState, TicketStatus
from reporter_app.tracking.store import TrackingStore

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)  # a Monday, FakeClock's default


def status(key: str = "LOCAL-1", state: TicketState = TicketState.NEW, name: str = "New", *, assignee: str = "",
           comments: tuple[Comment, ...] = (), fixed_in: str = "", updated_at: datetime | None = None,
           priority: str = "", title: str = "Crash on save") -> TicketStatus:
    return TicketStatus(ref=TicketRef("local", key, f"file:///t/{key}"), state=state, status_name=name,
                        assignee=assignee, comments=list(comments), fixed_in=fixed_in, updated_at=updated_at,
                        title=title, priority=priority)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(current=T0)


@pytest.fixture
def store(tmp_path) -> TrackingStore:
    s = TrackingStore(tmp_path / "tracking.sqlite3")
    yield s
    s.close()
