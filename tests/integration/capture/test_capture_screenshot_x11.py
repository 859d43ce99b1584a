"""Screenshots on a real two-monitor Xvfb: geometry per monitor and pixel content we drew."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from capture.screenshot import Screenshot, encode_png, grab, png_size
from capture.system import SystemCollector



RED = (255, 0, 0)
BLUE = (0, 0, 255)


def pixel(shot: Screenshot, x: int, y: int) -> tuple[int, int, int]:
    offset = (y * shot.width + x) * 4
    b, g, r = shot.raw[offset : offset + 3]
    return r, g, b


@pytest.fixture
def drawn(x_env: Any) -> Iterator[Any]:
    """Root painted red; a 200x200 blue window at (2020, 100), i.e. on the right monitor."""
    from Xlib import X, display

    x_env.run("xsetroot", "-solid", "#ff0000")
    conn: Any = display.Display(x_env.display)
    screen = conn.screen()
    window = screen.root.create_window(
        2020, 100, 200, 200, 0, screen.root_depth, background_pixel=0x0000FF, override_redirect=True
    )
    window.map()
    conn.sync()
    try:
        yield x_env
    finally:
        window.destroy()
        conn.close()


def test_cursor_monitor_follows_pointer(drawn: Any) -> None:
    drawn.run("xdotool", "mousemove", "2500", "600")
    right = grab()
    assert (right.left, right.top, right.width, right.height, right.monitor_index) == (1920, 0, 1920, 1080, 2)
    assert right.mode == "cursor-monitor" and right.scale == 1.0
    assert len(right.raw) == 1920 * 1080 * 4
    assert pixel(right, 150, 150) == BLUE  # the window, in monitor coordinates
    assert pixel(right, 10, 10) == RED

    drawn.run("xdotool", "mousemove", "300", "300")
    left = grab()
    assert (left.left, left.top, left.width, left.height, left.monitor_index) == (0, 0, 1920, 1080, 1)
    assert pixel(left, 150, 150) == RED


def test_explicit_cursor_position(drawn: Any) -> None:
    assert grab(cursor=(3000, 10)).monitor_index == 2
    assert grab(cursor=(10, 10)).monitor_index == 1


def test_all_monitors(drawn: Any) -> None:
    shot = grab("all-monitors")
    assert (shot.left, shot.top, shot.width, shot.height, shot.monitor_index) == (0, 0, 3840, 1080, 0)
    assert pixel(shot, 2100, 200) == BLUE and pixel(shot, 100, 100) == RED
    png = encode_png(shot)
    assert png_size(png) == (3840, 1080)


def test_invalid_mode(drawn: Any) -> None:
    with pytest.raises(ValueError):
        grab("window")


def test_screens_in_system_details(drawn: Any, tmp_path: Any) -> None:
    collector = SystemCollector(display=drawn.display)
    try:
        data = collector.collect(tmp_path, [])
    finally:
        collector.close()
    assert data["errors"] == {}
    screens = {s["name"]: s for s in data["screens"]}
    assert set(screens) == {"LEFT", "RIGHT"}
    assert screens["LEFT"]["primary"] and (screens["RIGHT"]["left"], screens["RIGHT"]["width"]) == (1920, 1920)
    assert screens["LEFT"]["dpi"] == 96.0 and screens["LEFT"]["scale"] == 1.0
    assert data["desktop"]["session_type"] == "x11"
