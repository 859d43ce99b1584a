"""The real program under Xvfb + openbox: hotkey -> form -> editor -> a black box dragged with the mouse -> send.

The ticket's screenshot must be black exactly under the box (at full resolution, although the editor shows
the image scaled down) and still show what was on screen everywhere else.
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
BLACK = (0, 0, 0)
BOX_W, BOX_H = 400, 200  # screen pixels dragged in the editor


@pytest.fixture
def app(openbox: XServer, reporter_home: Path) -> Iterator[RunningApp]:
    (reporter_home / "config.toml").write_text(
        '[reporter]\nname = "Ada Tester"\nrole = "qa"\n[capture]\nactivity_events = 0\n', encoding="utf-8")
    running = start_app(openbox, reporter_home)
    try:
        running.wait_trace("ready")
        yield running
    finally:
        running.stop()


def _geometry(server: XServer, window: str) -> dict[str, int]:
    shell = xdotool(server, "getwindowgeometry", "--shell", window)
    return {k: int(v) for k, v in (line.split("=") for line in shell.splitlines()) if k != "WINDOW"}


def _colours(image, step: int = 4) -> dict[tuple[int, int], tuple[int, int, int]]:  # type: ignore[no-untyped-def]
    """A grid sample of the image (every `step` px): enough to find the box and check the rest."""
    out = {}
    for y in range(0, image.height(), step):
        for x in range(0, image.width(), step):
            c = image.pixelColor(x, y)
            out[(x, y)] = (c.red(), c.green(), c.blue())
    return out


def test_a_black_box_drawn_in_the_editor_is_black_in_the_ticket_and_the_rest_intact(
        app: RunningApp, openbox: XServer, reporter_home: Path) -> None:
    from PySide6.QtGui import QImage

    target = ColourWindow(openbox, ORANGE)
    try:
        xdotool(openbox, "key", "--delay", "0", "ctrl+alt+b")
        app.wait_trace("form-exposed")
        wait_window(openbox, "^Report a problem$")
    finally:
        target.close()
    xdotool(openbox, "type", "--delay", "2", "Card number visible")
    xdotool(openbox, "key", "--delay", "0", "alt+1")
    time.sleep(0.3)  # the thumbnail and the annotate button are enabled just after show
    xdotool(openbox, "key", "--delay", "0", "alt+a")  # "&Annotate or hide parts…"
    editor = wait_window(openbox, "^Annotate or hide parts of the screenshot$")
    xdotool(openbox, "windowactivate", "--sync", editor)
    time.sleep(0.3)
    xdotool(openbox, "key", "--delay", "0", "b")  # the black box tool
    geo = _geometry(openbox, editor)
    cx, cy = geo["X"] + geo["WIDTH"] // 2, geo["Y"] + geo["HEIGHT"] // 2
    x0, y0 = cx - BOX_W // 2, cy - BOX_H // 2
    xdotool(openbox, "mousemove", "--sync", str(x0), str(y0))
    xdotool(openbox, "mousedown", "1")
    for step in (4, 2, 1):
        xdotool(openbox, "mousemove", "--sync", str(x0 + BOX_W // step), str(y0 + BOX_H // step))
    xdotool(openbox, "mouseup", "1")
    time.sleep(0.3)
    save_screenshot(openbox, "annotate-editor.png")
    xdotool(openbox, "key", "--delay", "0", "Return")  # the default button: "Use this screenshot"
    time.sleep(0.3)
    assert not xdotool(openbox, "search", "--onlyvisible", "--name", "^Annotate or hide parts")
    save_screenshot(openbox, "form-after-annotate.png")
    xdotool(openbox, "key", "--delay", "0", "ctrl+Return")

    ticket_dir = reporter_home / "data" / "local-tracker" / "LOCAL-1"
    ticket = json.loads(wait_file(ticket_dir / "ticket.json").read_text(encoding="utf-8"))
    assert ticket["title"] == "Card number visible"
    shots = sorted(ticket_dir.rglob("screenshot*.png"))
    assert shots
    image = QImage(str(shots[0]))
    assert (image.width(), image.height()) == (openbox.width, openbox.height)  # full resolution, not the view's
    sample = _colours(image)
    black = [p for p, c in sample.items() if c == BLACK]
    assert black, "no redaction in the sent screenshot"
    left, right = min(x for x, _ in black), max(x for x, _ in black)
    top, bottom = min(y for _, y in black), max(y for _, y in black)
    # The view is scaled down (scale < 1), so the box is at least as big in image pixels as it was dragged.
    assert BOX_W - 8 <= right - left <= BOX_W * 2 and BOX_H - 8 <= bottom - top <= BOX_H * 2
    for (x, y), colour in sample.items():
        inside = left <= x <= right and top <= y <= bottom
        assert colour == (BLACK if inside else ORANGE), f"pixel {x},{y} is {colour}"
