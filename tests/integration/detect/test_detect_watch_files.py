"""The watcher on real files: appends, rotation, truncation, delete and recreate; inotify and polling."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from reporter_app.detect.inotify import Inotify
from reporter_app.detect.watch import FileFollower, LogWatcher

TRACE = ["Traceback (most recent call last):", '  File "/app/x.py", line 3, in run', "    boom()",
         "RuntimeError: boom"]

MODES = [pytest.param(False, id="polling"),
         pytest.param(True, id="inotify", marks=pytest.mark.skipif(not Inotify.available(), reason="no inotify"))]


def append(path: Path, *lines: str) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("".join(line + "\n" for line in lines))


def test_follower_reads_only_new_complete_lines(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("old line\n")
    follower = FileFollower(log)
    try:
        assert follower.read_lines() == []
        with open(log, "a") as fh:
            fh.write("one\ntw")
        assert follower.read_lines() == ["one"]
        with open(log, "a") as fh:
            fh.write("o\n")
        assert follower.read_lines() == ["two"]
    finally:
        follower.close()


def test_follower_rotation_keeps_old_tail_then_reads_new_file(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("")
    follower = FileFollower(log)
    try:
        append(log, "before")
        # A writer appends after our last read, then the file is rotated and a new one started.
        os.rename(log, tmp_path / "app.log.1")
        append(tmp_path / "app.log.1", "late write to old file")
        append(log, "first in new file")
        assert follower.read_lines() == ["before", "late write to old file", "first in new file"]
    finally:
        follower.close()


def test_follower_truncation_starts_over(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("a long first line that makes the file big\n")
    follower = FileFollower(log)
    try:
        with open(log, "w") as fh:  # copytruncate
            fh.write("x\n")
        assert follower.read_lines() == ["x"]
    finally:
        follower.close()


def test_follower_survives_delete_and_recreate(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("")
    follower = FileFollower(log)
    try:
        log.unlink()
        assert follower.read_lines() == []
        assert follower.read_lines() == []
        append(log, "back")
        assert follower.read_lines() == ["back"]
    finally:
        follower.close()


def test_follower_file_missing_at_start(tmp_path: Path) -> None:
    follower = FileFollower(tmp_path / "later.log")
    try:
        assert follower.read_lines() == []
        append(tmp_path / "later.log", "hello")
        assert follower.read_lines() == ["hello"]
    finally:
        follower.close()


def wait_for(watcher: LogWatcher, done: Callable[[list[str]], bool], timeout: float = 5.0) -> list[str]:
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen.extend(e.event.first_line for e in watcher.poll())
        if done(seen):
            return seen
        watcher.wait(min(watcher.next_timeout(), 0.1))
    return seen


@pytest.mark.parametrize("use_inotify", MODES)
def test_watcher_reports_trace_after_idle_and_survives_rotation(tmp_path: Path, use_inotify: bool) -> None:
    log = tmp_path / "app.log"
    log.write_text("INFO old\nERROR old error, already seen\n")
    watcher = LogWatcher([str(log)], poll_interval=0.2, idle_flush=0.3, use_inotify=use_inotify)
    try:
        assert watcher.uses_inotify == use_inotify
        started = time.monotonic()
        append(log, "INFO working", *TRACE)
        seen = wait_for(watcher, lambda s: len(s) >= 1)
        assert seen == [TRACE[0]]
        assert time.monotonic() - started < 1.5  # the trace at the end of a quiet log is not held back

        os.rename(log, tmp_path / "app.log.1")
        append(log, "ERROR after rotation")
        assert wait_for(watcher, lambda s: len(s) >= 1) == ["ERROR after rotation"]

        log.write_text("")  # truncate
        append(log, "FATAL after truncation")
        assert wait_for(watcher, lambda s: len(s) >= 1) == ["FATAL after truncation"]

        log.unlink()
        assert wait_for(watcher, lambda s: False, timeout=0.3) == []
        append(log, "ERROR back again")
        assert wait_for(watcher, lambda s: len(s) >= 1) == ["ERROR back again"]
    finally:
        watcher.close()


@pytest.mark.parametrize("use_inotify", MODES)
def test_watcher_picks_up_new_files_matching_a_glob(tmp_path: Path, use_inotify: bool) -> None:
    append(tmp_path / "a.log", "INFO a")
    watcher = LogWatcher([str(tmp_path / "*.log")], poll_interval=0.2, idle_flush=0.2, use_inotify=use_inotify)
    try:
        append(tmp_path / "b.log", "ERROR in a new file")
        assert wait_for(watcher, lambda s: len(s) >= 1) == ["ERROR in a new file"]
        assert watcher.files == sorted([str(tmp_path / "a.log"), str(tmp_path / "b.log")])
    finally:
        watcher.close()
