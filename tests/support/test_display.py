"""The Xvfb, openbox and tray fixtures give what they promise."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import mss
import pytest

from tests.support.display import XServer

_DISPLAY_AT_IMPORT = os.environ.get("DISPLAY")


def test_xvfb_is_a_1920x1080_screen_mss_can_grab(xvfb: XServer, request: pytest.FixtureRequest) -> None:
    assert os.environ["DISPLAY"] == xvfb.display
    assert os.environ["QT_QPA_PLATFORM"] == "xcb"  # for a reporter-app subprocess
    assert request.node.get_closest_marker("display") is not None
    with mss.MSS() as sct:
        monitors = sct.monitors
        shot = sct.grab(monitors[1])
    assert len(monitors) == 2  # [all monitors, the one monitor]
    assert (monitors[1]["width"], monitors[1]["height"]) == (1920, 1080)
    assert shot.size == (1920, 1080)
    assert len(shot.raw) == 1920 * 1080 * 4


def test_xvfb_dual_shows_two_monitors(xvfb_dual: XServer) -> None:
    assert os.environ["DISPLAY"] == xvfb_dual.display
    with mss.MSS() as sct:
        monitors = sct.monitors
    assert monitors[0] == {"left": 0, "top": 0, "width": 3840, "height": 1080}
    assert sorted((m["left"], m["top"], m["width"], m["height"]) for m in monitors[1:]) == [
        (0, 0, 1920, 1080),
        (1920, 0, 1920, 1080),
    ]
    assert [m.name for m in xvfb_dual.monitors] == ["LEFT", "RIGHT"]


def test_display_env_is_restored_after_the_test() -> None:
    # Runs after the tests above in this module: the fixtures' DISPLAY must not leak.
    assert os.environ.get("DISPLAY") == _DISPLAY_AT_IMPORT
    assert os.environ.get("QT_QPA_PLATFORM") == "offscreen"


def test_openbox_manages_the_screen(openbox: XServer) -> None:
    out = openbox.run("xprop", "-root", "_NET_SUPPORTING_WM_CHECK", "_NET_ACTIVE_WINDOW").stdout
    assert "window id #" in out


def test_tray_host_owns_the_tray_selection(tray_host: XServer) -> None:
    from tests.support.display import _tray_owned

    assert _tray_owned(tray_host)


def test_qt_app_shows_a_window_on_xvfb(openbox: XServer) -> None:
    """The Qt xcb platform plugin loads (all its system libraries are installed) and maps a window."""
    code = textwrap.dedent(
        """
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication, QLabel
        app = QApplication([])
        label = QLabel("reporter-app test")
        label.resize(300, 100)
        label.show()
        QTimer.singleShot(300, app.quit)
        app.exec()
        print(app.platformName(), app.primaryScreen().size().width(), app.primaryScreen().size().height())
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=openbox.env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["xcb", "1920", "1080"], result.stderr
    assert result.stderr == "", result.stderr
