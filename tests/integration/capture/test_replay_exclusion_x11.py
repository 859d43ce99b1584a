"""Window exclusion with the recorder's own focus reader (one Xlib connection kept by the recorder thread)
under a real EWMH window manager: focus moved with xdotool, titles changed on a live window."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from tests.support.display import XServer
from tests.support.x11_windows import OwnedWindows

np = pytest.importorskip("numpy", reason="screen replay needs the 'replay' extra (numpy)")

from capture.replay import EXCLUDED, RECORDING, ReplayRecorder, ReplaySettings  # noqa: E402 - after the importorskip


@pytest.fixture
def windows(openbox: XServer) -> Iterator[OwnedWindows]:
    owned = OwnedWindows(openbox, geometry=(50, 50, 400, 300))
    try:
        yield owned
    finally:
        owned.close()


def _wait(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_focus_and_title_changes_are_seen_on_the_kept_connection(openbox: XServer, windows: OwnedWindows) -> None:
    notes = windows.create("Meeting notes", "Gedit")
    vault = windows.create("Passwords.kdbx", "KeePassXC")
    windows.focus(notes)
    recorder = ReplayRecorder(ReplaySettings(fps=10, exclude_windows=("keepass", "bitwarden")),
                              display=openbox.display)  # no foreground given: the recorder's own reader
    recorder.start()
    try:
        assert _wait(lambda: recorder.stats().frames >= 3), recorder.error
        assert recorder.state == RECORDING

        windows.focus(vault)
        assert _wait(lambda: recorder.state == EXCLUDED), recorder.state
        grabs = recorder.stats().grabs
        time.sleep(0.5)
        assert recorder.stats().grabs == grabs, "nothing is grabbed while the password manager has the focus"
        assert recorder.excluded_by == "keepass"

        windows.focus(notes)
        assert _wait(lambda: recorder.state == RECORDING and recorder.stats().grabs > grabs)

        windows.set_title(notes, "Bitwarden - web vault")  # same window, new title (a browser tab)
        assert _wait(lambda: recorder.state == EXCLUDED), "a title change on the focused window was missed"
        assert recorder.excluded_by == "bitwarden"
    finally:
        recorder.stop()
    assert recorder.error is None
