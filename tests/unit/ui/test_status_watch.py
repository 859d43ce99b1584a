"""The tray's status poller with an injected fake Tracking: when it wakes, how a burst becomes one notice,
that errors are logged and not shown, and that a click opens My reports at the report (offscreen)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from reporter_app.tracking.changes import ChangeKind, TicketChange
from reporter_app.tracking.store import TrackedTicket
from ui.core_worker import CoreWorker
from ui.status_watch import (
    AFTER_FILED_MS,
    LOCAL_SYNC_S,
    MIN_SLEEP_S,
    PollRound,
    StatusWatch,
    sleep_seconds,
)
from ui.tray import AppFace, TrayActions

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support (propagateSizeHints|raise)\(\)")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class FakeClock:
    def now(self) -> datetime:
        return NOW


@dataclass
class FakeStore:
    next_due: datetime | None = None
    due_tickets: list[Any] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # key -> last_error after the round

    def due(self, now: datetime) -> list[TrackedTicket]:
        return list(self.due_tickets)

    def get(self, backend: str, key: str) -> TrackedTicket | None:
        ticket = next((t for t in self.due_tickets if t.key == key), None)
        return None if ticket is None else _Ticket(backend, key, self.errors.get(key, ""))  # type: ignore[return-value]

    def next_due_at(self) -> datetime | None:
        return self.next_due


@dataclass
class _Ticket:
    backend: str
    key: str
    last_error: str = ""


class FakeTracking:
    """Hands out the queued batches of changes, one per poll() (each change once, like the real store)."""

    def __init__(self) -> None:
        self.store = FakeStore()
        self.clock = FakeClock()
        self.batches: list[list[TicketChange]] = []
        self.polls = 0
        self.syncs = 0
        self.fail: BaseException | None = None

    def sync_outbox(self) -> int:
        self.syncs += 1
        return 0

    def poll(self) -> list[TicketChange]:
        self.polls += 1
        if self.fail is not None:
            raise self.fail
        return self.batches.pop(0) if self.batches else []


class FakeConfig:
    def __init__(self, **values: Any) -> None:
        self.values = {"status.notify": True, "status.poll_interval_seconds": 300, **values}

    def get(self, key: str) -> Any:
        return self.values[key]


class FakeCtx:
    def __init__(self, **values: Any) -> None:
        self.config = FakeConfig(**values)


def change(kind: ChangeKind, key: str = "LOCAL-1", report_id: str = "r-1", n: int = 1, **kw: Any) -> TicketChange:
    return TicketChange(backend="local", key=key, kind=kind, at=NOW, title="Totals are wrong", report_id=report_id,
                        id=n, **kw)


BURST = [change(ChangeKind.ASSIGNEE, new="eng", n=1), change(ChangeKind.STATUS, new="In Progress", n=2),
         change(ChangeKind.COMMENT, author="eng", text="On it", new="c1", n=3)]


class Harness:
    def __init__(self, qtbot: QtBot, **config: Any) -> None:
        self.qtbot = qtbot
        self.tracking = FakeTracking()
        self.core = CoreWorker()
        self.face = AppFace(TrayActions(""), force_window=True)  # offscreen: no tray host, the fallback window
        self.opened: list[tuple[str, str]] = []
        self.made = 0

        def factory() -> FakeTracking:
            self.made += 1
            return self.tracking

        self.watch = StatusWatch(FakeCtx(**config), self.core, self.face,
                                 lambda rid, key: self.opened.append((rid, key)), tracking_factory=factory)
        self.notices: list[Any] = []
        self.watch.notice_shown.connect(self.notices.append)

    def round(self, start: bool = False) -> PollRound:
        with self.qtbot.waitSignal(self.watch.round_done, timeout=5000) as blocker:
            self.watch.start() if start else self.watch.poll_now()
        result = blocker.args[0]
        assert isinstance(result, PollRound)
        return result

    def close(self) -> None:
        from shiboken6 import Shiboken

        self.watch.stop()
        self.core.shutdown()
        # Deleted now, while the worker's relays still exist: left to the cyclic GC (the factory closure holds
        # this harness), the watch may go last, and its `destroyed` would reach a relay already half freed.
        Shiboken.delete(self.watch)
        self.face.hide()
        if self.face.window is not None:
            self.face.window.deleteLater()


@pytest.fixture
def harness(qtbot: QtBot) -> Iterator[Harness]:
    made = Harness(qtbot)
    yield made
    made.close()


def test_sleep_is_until_the_next_due_ticket_within_bounds() -> None:
    assert sleep_seconds(None) == LOCAL_SYNC_S  # nothing followed: still pick up filings by the CLI
    assert sleep_seconds(5.0) == 5.0
    assert sleep_seconds(3600.0) == LOCAL_SYNC_S
    assert sleep_seconds(-10.0) == MIN_SLEEP_S  # overdue: soon, but never a busy loop


def test_first_round_on_start_then_sleeps_until_next_due(harness: Harness) -> None:
    harness.tracking.store.next_due = NOW + timedelta(seconds=7)
    result = harness.round(start=True)
    assert (harness.made, harness.tracking.syncs, harness.tracking.polls) == (1, 1, 1)
    assert result.next_in == 7.0
    assert harness.watch.timer.isActive() and harness.watch.timer.isSingleShot()
    assert harness.watch.timer.interval() == 7000  # interval, not remainingTime: a coarse timer may slip 5%
    harness.round()
    assert harness.made == 1, "one Tracking for the life of the app"


def test_a_report_filed_here_is_looked_at_shortly(harness: Harness) -> None:
    harness.round(start=True)  # nothing followed: the next wake-up is LOCAL_SYNC_S away
    assert harness.watch.timer.interval() == LOCAL_SYNC_S * 1000
    harness.watch.report_filed()
    assert harness.watch.timer.isActive() and harness.watch.timer.interval() == AFTER_FILED_MS
    harness.watch._schedule(3600)  # a later wake-up asked for meanwhile never pushes the sooner one back
    assert harness.watch.timer.interval() == AFTER_FILED_MS


def test_a_burst_is_one_notice_and_is_not_repeated(harness: Harness) -> None:
    harness.tracking.batches = [list(BURST)]
    first = harness.round(start=True)
    assert len(first.changes) == 3
    assert len(harness.notices) == 1
    notice = harness.notices[0]
    assert notice.title == "LOCAL-1: Totals are wrong"
    assert notice.body.splitlines() == ["LOCAL-1 is now In Progress", "eng commented on LOCAL-1: On it",
                                        "LOCAL-1 is assigned to eng"]
    assert harness.face.window is not None
    assert "LOCAL-1 is now In Progress" in harness.face.window.message.text()
    harness.round()
    assert len(harness.notices) == 1, "the next round has nothing new: no second notice"


def test_many_tickets_at_once_make_one_line_in_the_fallback_window(harness: Harness) -> None:
    harness.tracking.batches = [[change(ChangeKind.STATUS, key=f"LOCAL-{i}", report_id=f"r-{i}", n=i, new="Done")
                                 for i in range(1, 3)]]
    harness.round(start=True)
    assert [n.title for n in harness.notices] == ["2 of your tickets changed"]


def test_notify_off_polls_but_shows_nothing(qtbot: QtBot) -> None:
    harness = Harness(qtbot, **{"status.notify": False})
    try:
        harness.tracking.batches = [list(BURST)]
        result = harness.round(start=True)
        assert len(result.changes) == 3 and harness.notices == []
        assert harness.face.window is not None and harness.face.window.message.text() == "Ready."
    finally:
        harness.close()


def test_tracker_errors_are_logged_once_at_info_never_shown(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="ui.status_watch")
    store = harness.tracking.store
    store.due_tickets = [_Ticket("local", "LOCAL-1")]
    store.errors = {"LOCAL-1": "tracker unreachable: connection refused"}
    store.next_due = NOW + timedelta(seconds=60)
    for _ in range(3):
        result = harness.round(start=not harness.tracking.polls)
        assert result.errors == ("tracker unreachable: connection refused",)
    lines = [r for r in caplog.records if r.name == "ui.status_watch"]
    assert len(lines) == 1 and lines[0].levelno == logging.INFO and "unreachable" in lines[0].getMessage()
    assert harness.notices == []
    assert harness.watch.timer.isActive(), "retried at the next due time"


def test_an_unexpected_failure_is_retried_after_one_interval(harness: Harness,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="ui.status_watch")
    harness.tracking.fail = OSError("disk I/O error")
    harness.watch.start()
    harness.qtbot.waitUntil(lambda: harness.tracking.polls == 1 and harness.watch.timer.isActive(), timeout=5000)
    assert harness.watch.timer.interval() == 300_000  # status.poll_interval_seconds
    assert any("disk I/O error" in r.getMessage() and r.levelno == logging.INFO for r in caplog.records)
    assert harness.notices == []


def test_clicking_the_notice_opens_my_reports_at_the_report(harness: Harness) -> None:
    harness.tracking.batches = [list(BURST)]
    harness.round(start=True)
    window = harness.face.window
    assert window is not None and "Open in My reports" in window.message.text()
    window.message.linkActivated.emit("status-notice:open")
    assert harness.opened == [("r-1", "LOCAL-1")]


def test_a_balloon_click_acts_only_while_ours_is_the_latest(harness: Harness) -> None:
    harness.tracking.batches = [list(BURST)]
    harness.round(start=True)
    harness.watch._message_clicked()
    assert harness.opened == [("r-1", "LOCAL-1")]
    harness.face.notify("Filed as LOCAL-2", "Another report")  # someone else's balloon is on screen now
    harness.watch._message_clicked()
    assert harness.opened == [("r-1", "LOCAL-1")]


def test_stopped_watch_runs_no_more_rounds(harness: Harness) -> None:
    harness.round(start=True)
    harness.watch.stop()
    assert not harness.watch.timer.isActive()
    harness.watch.report_filed()
    harness.watch.poll_now()
    assert not harness.watch.timer.isActive() and harness.tracking.polls == 1


def test_my_reports_select_report_selects_that_row(qtbot: QtBot) -> None:
    from ui.my_reports import MyReportsWindow
    from ui.my_reports_data import Row
    from ui.outbox_worker import OutboxWorker

    core = CoreWorker()
    window = MyReportsWindow(FakeCtx(), core, OutboxWorker(FakeCtx(), core))
    qtbot.addWidget(window)
    rows = [Row(report_id=f"r-{i}", key=f"LOCAL-{i}", url="", title=f"t{i}", status="New", priority="P3",
                updated="", comments=0, outbox_state="filed", reason="") for i in range(1, 4)]
    window.select_report("r-2", "LOCAL-2")
    window.show_rows(rows)
    assert window.table.currentRow() == 1
    window.select_report("", "LOCAL-3")  # a ticket followed by key has no report id
    window.show_rows(rows)
    assert window.table.currentRow() == 2
    core.shutdown()
