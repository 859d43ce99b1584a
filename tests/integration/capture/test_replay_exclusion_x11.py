"""Window exclusion with the recorder's own focus reader (one Xlib connection kept by the recorder thread)
under a real EWMH window manager: focus moved with xdotool, titles changed on a live window."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support.display import XServer

np = pytest.importorskip("numpy", reason="screen replay needs the 'replay' extra (numpy)")

from capture.replay import EXCLUDED, RECORDING, ReplayRecorder, ReplaySettings  # noqa: E402 - after the importorskip


class _Windows:
    def __init__(self, server: XServer) -> None:
        from Xlib import display

        self.server = server
        self.conn: Any = display.Display(server.display)
        self.windows: list[Any] = []

    def create(self, title: str, wm_class: str) -> Any:
        screen = self.conn.screen()
        window = screen.root.create_window(50, 50, 400, 300, 0, screen.root_depth, background_pixel=screen.white_pixel)
        self.set_title(window, title)
        window.set_wm_class(wm_class.lower(), wm_class)
        window.change_property(self.conn.intern_atom("_NET_WM_PID"), self.conn.intern_atom("CARDINAL"), 32,
                               [os.getpid()])
        window.map()
        self.conn.sync()
        self.windows.append(window)
        return window

    def set_title(self, window: Any, title: str) -> None:
        window.change_property(self.conn.intern_atom("_NET_WM_NAME"), self.conn.intern_atom("UTF8_STRING"), 8,
                               title.encode())
        self.conn.sync()

    def focus(self, window: Any) -> None:
        self.server.run("xdotool", "windowactivate", "--sync", str(window.id))

    def close(self) -> None:
        for window in self.windows:
            window.destroy()
        self.conn.close()


@pytest.fixture
def windows(openbox: XServer) -> Iterator[_Windows]:
    owned = _Windows(openbox)
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


def test_focus_and_title_changes_are_seen_on_the_kept_connection(openbox: XServer, windows: _Windows) -> None:
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
