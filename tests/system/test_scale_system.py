"""200% scale: the form, the editor and the settings on a 3840x2160 screen with QT_SCALE_FACTOR=2.

Saves screenshots to look at (tests/system/artifacts/scale200-*.png) and checks that the windows fit
on the screen and that the editor shows the whole grab.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.display import XServer, launch_openbox, start_xvfb
from tests.system.support_ui import ColourWindow, save_screenshot, start_app, wait_window, xdotool


@pytest.fixture
def big_screen(tmp_path: Path) -> Iterator[XServer]:
    server = start_xvfb(tmp_path / "xvfb", width=3840, height=2160)
    wm = launch_openbox(server, tmp_path)
    try:
        yield server
    finally:
        wm.stop()
        server.stop()


def _fits(server: XServer, window: str) -> None:
    shell = xdotool(server, "getwindowgeometry", "--shell", window)
    geo = {k: int(v) for k, v in (line.split("=") for line in shell.splitlines()) if k != "WINDOW"}
    assert geo["X"] >= 0 and geo["Y"] >= 0, geo
    assert geo["X"] + geo["WIDTH"] <= server.width and geo["Y"] + geo["HEIGHT"] <= server.height, geo


def test_form_editor_and_settings_at_200_percent(big_screen: XServer, reporter_home: Path) -> None:
    (reporter_home / "config.toml").write_text('[capture]\nactivity_events = 0\n', encoding="utf-8")
    app = start_app(big_screen, reporter_home, extra_env={"QT_SCALE_FACTOR": "2"})
    try:
        app.wait_trace("ready")
        target = ColourWindow(big_screen, (40, 120, 200))
        try:
            xdotool(big_screen, "key", "--delay", "0", "ctrl+alt+b")
            app.wait_trace("form-exposed")
            form = wait_window(big_screen, "^Report a problem$")
        finally:
            target.close()
        time.sleep(0.4)
        _fits(big_screen, form)
        save_screenshot(big_screen, "scale200-form.png")
        xdotool(big_screen, "key", "--delay", "0", "alt+a")
        editor = wait_window(big_screen, "^Annotate or hide parts of the screenshot$")
        time.sleep(0.4)
        _fits(big_screen, editor)
        save_screenshot(big_screen, "scale200-editor.png")
        xdotool(big_screen, "key", "--delay", "0", "Escape")
        time.sleep(0.2)
        xdotool(big_screen, "key", "--delay", "0", "Escape")  # the form: nothing typed, so no question
        fallback = wait_window(big_screen, "^Reporter$")
        xdotool(big_screen, "windowactivate", "--sync", fallback)
        xdotool(big_screen, "key", "--delay", "0", "Tab", "Tab", "Tab", "space")  # fourth button: Settings
        settings = wait_window(big_screen, "^Reporter settings$")
        time.sleep(0.8)
        _fits(big_screen, settings)
        save_screenshot(big_screen, "scale200-settings.png")
    finally:
        app.stop()
