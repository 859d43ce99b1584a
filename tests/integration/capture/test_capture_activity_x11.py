"""Window activity under a real EWMH window manager (openbox on Xvfb), windows switched with xdotool."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import psutil
import pytest

from capture.activity import ActivityRecorder, foreground_window
from capture.scrub import Scrubber
from tests.support.x11_windows import OwnedWindows

# "python3.11" under `python -m pytest`, "pytest" when run as .venv/bin/pytest.
OUR_PROCESS_NAME = psutil.Process().name()


@pytest.fixture
def windows(openbox_two_monitors: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, OwnedWindows]]:
    monkeypatch.setenv("DISPLAY", openbox_two_monitors.display)
    owned = OwnedWindows(openbox_two_monitors)
    try:
        yield openbox_two_monitors, owned
    finally:
        owned.close()


def wait_for_event(recorder: ActivityRecorder, count: int, timeout: float = 5.0) -> None:
    """Service the recorder the way the GUI's socket notifier would, until ``count`` events are recorded."""
    import select

    deadline = time.monotonic() + timeout
    while len(recorder.snapshot()) < count and time.monotonic() < deadline:
        select.select([recorder.fileno()], [], [], 0.1)
        recorder.poll()


def settle_active(window_id: int) -> None:
    """openbox may still be focusing the window mapped last when --sync returns: wait until ours stays active."""
    stable, deadline = 0, time.monotonic() + 10
    while stable < 3 and time.monotonic() < deadline:
        active = subprocess.run(["xdotool", "getactivewindow"], capture_output=True, text=True).stdout.strip()
        if active == str(window_id):
            stable += 1
        else:
            stable = 0
            subprocess.run(["xdotool", "windowactivate", "--sync", str(window_id)], capture_output=True)
        time.sleep(0.05)
    assert stable >= 3, f"window {window_id} never stayed active"


def test_recorder_follows_window_switches(windows: tuple[Any, OwnedWindows]) -> None:
    server, owned = windows
    editor = owned.create("Editor - notes.txt", "Editor")
    browser = owned.create("Browser - token=abc123secret", "Browser")
    ids = {"editor": editor.id, "browser": browser.id}
    server.run("xdotool", "windowactivate", "--sync", str(ids["editor"]))
    settle_active(ids["editor"])  # DISPLAY is the fixture's (monkeypatched)

    recorder = ActivityRecorder(Scrubber(), maxlen=10)
    assert recorder.start(), recorder.unavailable
    try:
        assert recorder.fileno() >= 0
        wait_for_event(recorder, 1)
        server.run("xdotool", "windowactivate", "--sync", str(ids["browser"]))
        wait_for_event(recorder, 2)
        server.run("xdotool", "windowactivate", "--sync", str(ids["editor"]))
        wait_for_event(recorder, 3)
        owned.set_title(editor, "Editor - report.txt")  # title change of the active window counts too
        wait_for_event(recorder, 4)
        events = recorder.snapshot()
    finally:
        recorder.close()
    assert [e.title for e in events] == [
        "Editor - notes.txt",
        "Browser - token=[REDACTED:secret-value]",
        "Editor - notes.txt",
        "Editor - report.txt",
    ]
    assert [e.window_class for e in events] == ["Editor", "Browser", "Editor", "Editor"]
    assert all(e.process == OUR_PROCESS_NAME for e in events)  # the windows are this process's own
    assert all(e.at.tzinfo == timezone.utc for e in events)
    assert [e.at for e in events] == sorted(e.at for e in events)
    assert events[-1].at <= datetime.now(timezone.utc)


def test_sample_fallback_and_foreground(windows: tuple[Any, OwnedWindows]) -> None:
    server, owned = windows
    window = owned.create("Only window", "Solo")
    server.run("xdotool", "windowactivate", "--sync", str(window.id))
    info = foreground_window()
    assert info is not None
    assert (info["title"], info["window_class"], info["pid"]) == ("Only window", "Solo", os.getpid())
    assert info["exe"] and info["process"] == OUR_PROCESS_NAME
    recorder = ActivityRecorder(maxlen=2)
    recorder.start()
    try:
        assert recorder.sample() is None  # unchanged since start(): nothing new recorded
        assert [e.title for e in recorder.snapshot()] == ["Only window"]
    finally:
        recorder.close()
