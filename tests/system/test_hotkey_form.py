"""The real program under Xvfb + openbox: hotkey, form, Ctrl+Enter, ticket in the local tracker.

The screenshot in the ticket must show what was on screen before the hotkey (a known colour), not our form.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.display import XServer
from tests.system.support_ui import (
    ColourWindow,
    RunningApp,
    save_screenshot,
    start_app,
    wait_file,
    wait_window,
    xdotool,
)

ORANGE = (255, 136, 0)
TITLE = "Save button does nothing"


@pytest.fixture
def app(openbox: XServer, reporter_home: Path) -> Iterator[RunningApp]:
    (reporter_home / "config.toml").write_text('[reporter]\nname = "Ada Tester"\nrole = "qa"\n', encoding="utf-8")
    running = start_app(openbox, reporter_home)
    try:
        running.wait_trace("ready")
        yield running
    finally:
        running.stop()


def _pixel(image, x: int, y: int) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    colour = image.pixelColor(x, y)
    return colour.red(), colour.green(), colour.blue()


def test_hotkey_opens_the_form_and_ctrl_enter_files_a_ticket_with_the_screen_before(
        app: RunningApp, openbox: XServer, reporter_home: Path) -> None:
    from PySide6.QtGui import QImage

    target = ColourWindow(openbox, ORANGE)
    try:
        xdotool(openbox, "key", "--delay", "0", "ctrl+alt+b")
        app.wait_trace("form-exposed")
        form = wait_window(openbox, "^Report a problem$")
    finally:
        # The capture is done by now; the override-redirect colour window would hide the form in our artifacts.
        target.close()
    assert xdotool(openbox, "getactivewindow") == form, "the form must have the keyboard focus"
    time.sleep(0.3)  # the thumbnail is drawn just after show
    save_screenshot(openbox, "form-empty.png")

    xdotool(openbox, "type", "--delay", "2", TITLE)
    xdotool(openbox, "key", "--delay", "0", "alt+2")  # impact: "Works with a workaround"
    save_screenshot(openbox, "form-filled.png")
    xdotool(openbox, "key", "--delay", "0", "ctrl+Return")

    ticket_dir = reporter_home / "data" / "local-tracker" / "LOCAL-1"
    ticket = json.loads(wait_file(ticket_dir / "ticket.json").read_text(encoding="utf-8"))
    assert ticket["title"] == TITLE
    shots = sorted(ticket_dir.rglob("screenshot*.png"))
    assert shots, f"no screenshot attached: {sorted(p.name for p in ticket_dir.rglob('*'))}"
    image = QImage(str(shots[0]))
    assert (image.width(), image.height()) == (openbox.width, openbox.height)
    # The centre is where the form appeared: it must still be the colour that was there before.
    for x, y in ((10, 10), (image.width() // 2, image.height() // 2), (image.width() - 10, image.height() - 10),
                 (image.width() // 2, 200)):
        assert _pixel(image, x, y) == ORANGE, f"pixel {x},{y} is not what was on screen before the hotkey"
    assert not xdotool(openbox, "search", "--onlyvisible", "--name", "^Report a problem$")


def test_my_reports_lists_the_filed_ticket(app: RunningApp, openbox: XServer, reporter_home: Path) -> None:
    # File one report headless (same data dir; the CLI sends it itself), then open My reports in the running app.
    import subprocess
    import sys

    env = openbox.env
    env.update(REPORTER_APP_HOME=str(reporter_home))
    subprocess.run([sys.executable, "-m", "reporter_app.cli", "report", "--title", "Totals are wrong",
                    "--impact", "major", "--no-screenshot"], env=env, check=True, timeout=30)
    fallback = wait_window(openbox, "^Reporter$")  # no tray host: the small window with the same actions
    xdotool(openbox, "windowactivate", "--sync", fallback)
    xdotool(openbox, "key", "--delay", "0", "Tab", "space")  # second button: My reports
    window = wait_window(openbox, "^My reports$")
    xdotool(openbox, "windowactivate", "--sync", window)
    assert (reporter_home / "data" / "local-tracker" / "LOCAL-1" / "ticket.json").is_file()
    time.sleep(0.5)  # statuses arrive from the core worker
    save_screenshot(openbox, "my-reports.png")
