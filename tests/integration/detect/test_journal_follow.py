"""The watcher on a real systemd journal: entries appended with systemd-journal-remote while it follows.

``systemd-journal-remote --output=FILE.journal -`` turns journal export format on stdin into a real
journal file and appends to one that exists (measured: it does, and ``journalctl --file=FILE --follow``
sees each append); no fake journalctl anywhere. Linux only; the tools missing skip the test by hand
and fail it under scripts/test-all (tests/support/env.py).
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from reporter_app.app import AppContext
from reporter_app.clock import FakeClock
from reporter_app.detect.journal import JournalFollower, JournalSource
from reporter_app.detect.service import DetectionService
from reporter_app.detect.watch import LogWatcher, WatchedEvent
from tests.support.journal import Journal, journal_remote_path

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the systemd journal exists only on Linux")

TRACEBACK = ["Traceback (most recent call last):", '  File "/srv/shop/app.py", line 12, in checkout',
             "    pay(order)", "RuntimeError: card declined"]
MULTILINE = ("Traceback (most recent call last):\n"
             '  File "/srv/shop/worker.py", line 40, in run\n'
             "    job()\n"
             "KeyError: 'currency'\n")


@pytest.fixture(scope="module")
def journal_remote() -> str:
    return journal_remote_path()


@pytest.fixture
def journal(journal_remote: str, tmp_path: Path) -> Journal:
    made = Journal(journal_remote, tmp_path / "shop.journal")
    made.append("shop started")  # older than the watcher: must never come out
    return made


def quick_follower(source: JournalSource, on_lines: Callable[[], None]) -> JournalFollower:
    return JournalFollower(source, on_lines=on_lines, backoff_initial=0.05, backoff_max=0.2)


@pytest.fixture
def watcher_for(request: pytest.FixtureRequest) -> Iterator[Callable[..., LogWatcher]]:
    made: list[LogWatcher] = []

    def make(*sources: JournalSource, **kwargs: Any) -> LogWatcher:
        watcher = LogWatcher([], use_inotify=False, idle_flush=0.2, journals=sources,
                             journal_factory=kwargs.pop("journal_factory", quick_follower), **kwargs)
        made.append(watcher)
        return watcher

    yield make
    for watcher in made:
        watcher.close()


def events_until(watcher: LogWatcher, count: int, timeout: float = 10.0) -> list[WatchedEvent]:
    deadline = time.monotonic() + timeout
    events: list[WatchedEvent] = []
    while len(events) < count and time.monotonic() < deadline:
        watcher.wait(min(watcher.next_timeout(), 0.1))
        events.extend(watcher.poll())
    return events


def lines_until(follower: JournalFollower, count: int, timeout: float = 10.0) -> list[str]:
    deadline = time.monotonic() + timeout
    lines: list[str] = []
    while len(lines) < count and time.monotonic() < deadline:
        lines.extend(follower.read_lines())
        time.sleep(0.02)
    return lines


def test_traceback_over_entries_and_in_one_multiline_message_come_out_whole(
        journal: Journal, watcher_for: Callable[..., LogWatcher]) -> None:
    source = JournalSource("identifier:shop", str(journal.path))
    watcher = watcher_for(source)
    # One entry per line, as a Python service's stderr reaches the journal; others' entries in between.
    journal.append("GET /cart 200", *TRACEBACK[:2])
    journal.append("noise from elsewhere", identifier="other")
    journal.append(*TRACEBACK[2:], "GET /health 200")
    journal.append(MULTILINE)
    journal.append(b"ERROR payment \xff\xfe undecodable")  # journalctl's JSON gives this as a byte array
    events = events_until(watcher, 3)
    assert [e.path for e in events] == [source.key] * 3
    first, second, third = (e.event for e in events)
    assert first.lines == tuple(TRACEBACK) and first.language == "python"
    assert (second.first_line, second.last_line) == ("Traceback (most recent call last):", "KeyError: 'currency'")
    assert len(second.lines) == 4
    assert third.kind == "line" and third.first_line == "ERROR payment \ufffd\ufffd undecodable"
    assert not any("shop started" in line for e in events for line in (*e.event.lines, *e.event.context_before))
    assert not any("noise" in line for e in events for line in e.event.context_before)  # other identifiers
    [follower] = watcher.journals.values()
    assert follower.starts == 1 and follower.problem == ""


@pytest.mark.expect_log_warning(match=r"journalctl exited with status -9; trying again in 0\.5 s",
                                logger="reporter_app.detect.journal")
def test_a_killed_journalctl_is_restarted_and_resumes_after_the_last_entry(
        journal: Journal, watcher_for: Callable[..., LogWatcher]) -> None:
    def slow_restart(source: JournalSource, on_lines: Callable[[], None]) -> JournalFollower:
        # Long enough a pause that the entries below are written while no journalctl runs.
        return JournalFollower(source, on_lines=on_lines, backoff_initial=0.5, backoff_max=1.0)

    watcher = watcher_for(JournalSource("identifier:shop", str(journal.path)), journal_factory=slow_restart)
    [follower] = watcher.journals.values()
    journal.append("one", "two")
    assert lines_until(follower, 2) == ["one", "two"]
    pid = follower.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while follower.pid == pid and time.monotonic() < deadline:
        time.sleep(0.01)
    journal.append("three")  # while journalctl is down: --after-cursor must pick it up, once
    journal.append("four")
    assert lines_until(follower, 2) == ["three", "four"]
    assert follower.starts == 2
    time.sleep(0.3)
    assert follower.read_lines() == []  # nothing read twice
    assert follower.problem == ""  # following again


def test_close_reaps_journalctl_and_does_not_hang(journal: Journal,
                                                  watcher_for: Callable[..., LogWatcher]) -> None:
    watcher = watcher_for(JournalSource("identifier:shop", str(journal.path)))
    [follower] = watcher.journals.values()
    deadline = time.monotonic() + 5
    while follower.pid is None and time.monotonic() < deadline:
        time.sleep(0.01)
    pid = follower.pid
    assert pid is not None
    started = time.monotonic()
    watcher.close()
    assert time.monotonic() - started < 2.0
    assert not follower.running
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # already reaped: no zombie left behind
    assert not Path(f"/proc/{pid}").exists()


def test_an_unreadable_journal_gives_one_warning_then_recovers(
        journal_remote: str, tmp_path: Path, watcher_for: Callable[..., LogWatcher], log_guard: Any) -> None:
    later = Journal(journal_remote, tmp_path / "mounted-later.journal")
    with log_guard.expected(match=r"journalctl exited with status 1: .*No such file or directory",
                            logger="reporter_app.detect.journal") as warnings:
        watcher = watcher_for(JournalSource("unit:shop.service", str(later.path)))
        [follower] = watcher.journals.values()
        deadline = time.monotonic() + 5
        while follower.starts < 4 and time.monotonic() < deadline:  # it keeps trying, with growing delays
            time.sleep(0.02)
        assert follower.starts >= 4
        assert "trying again" in follower.problem
    assert len(warnings) == 1  # one clear line, not one per attempt

    later.append("ERROR from another unit", unit="other.service")  # the file appears
    later.append("ERROR db down", unit="shop.service")
    events = events_until(watcher, 1)
    assert [e.event.first_line for e in events] == ["ERROR db down"]
    assert follower.problem == ""


@pytest.mark.expect_log_warning(match="journalctl not found", logger="reporter_app.detect.journal")
def test_without_journalctl_the_source_is_reported_not_watched(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, watcher_for: Callable[..., LogWatcher]) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a machine without systemd's tools
    watcher = watcher_for(JournalSource("unit:shop.service"))
    [follower] = watcher.journals.values()
    deadline = time.monotonic() + 5
    while follower.running and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not follower.running and "journalctl not found" in follower.problem
    assert watcher.poll() == []


def test_the_service_watches_a_journal_source(journal: Journal, reporter_home: Path) -> None:
    (reporter_home / "config.toml").write_text(
        f'[[logs]]\nname = "shop"\njournal = "identifier:shop"\njournal_file = "{journal.path}"\n\n'
        '[detect]\nenabled = true\n', encoding="utf-8")
    ctx = AppContext.load(home=str(reporter_home), env={}, clock=FakeClock())
    service = DetectionService(ctx)
    try:
        assert [s.name for s in service.sources] == ["shop"] and service.warnings == []
        journal.append(*TRACEBACK)
        deadline = time.monotonic() + 10
        detections = []
        while not detections and time.monotonic() < deadline:
            service.wait()
            detections = service.detect()
        [detection] = detections
        assert detection.source == "shop" and detection.title == "RuntimeError: card declined"
        assert detection.event.lines == tuple(TRACEBACK)
        assert f"journal:identifier:shop in {journal.path}" in detection.draft.description
    finally:
        service.close()
