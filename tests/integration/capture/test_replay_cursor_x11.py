"""The mouse pointer is in the replay: on a real X server the recorder's frames show the pointer's own image
(as XFixes reports it) where xdotool put the pointer, and follow it when it moves."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.display import XServer

np = pytest.importorskip("numpy", reason="screen replay needs the 'replay' extra (numpy)")

from capture.replay import RECORDING, ReplayRecorder, ReplaySettings  # noqa: E402 - after the importorskip

GREY = 0x646464  # a flat background, so every pointer pixel stands out
GREY_BGRA = (100, 100, 100)


@pytest.fixture
def grey_screen(xvfb: XServer) -> Iterator[Any]:
    """A full-screen grey window (no cursor of its own: the pointer shows the root's) and an Xlib connection."""
    from Xlib import X, display
    from Xlib.ext import xfixes  # noqa: F401 - registers the XFixes requests on the connection

    d = display.Display(xvfb.display)
    screen = d.screen()
    window = screen.root.create_window(0, 0, xvfb.width, xvfb.height, 0, screen.root_depth, X.InputOutput,
                                       X.CopyFromParent, background_pixel=GREY, override_redirect=True)
    window.map()
    d.sync()
    d.xfixes_query_version()
    try:
        yield d
    finally:
        window.destroy()
        d.close()


def _pointer_image(d: Any) -> tuple[Any, int, int]:
    """The current pointer as XFixes gives it (independently of the recorder): BGRA pixels and hot spot."""
    reply = d.xfixes_get_cursor_image(d.screen().root)
    pixels = np.asarray(reply.cursor_image, dtype="<u4").view(np.uint8).reshape(reply.height, reply.width, 4)
    return pixels, int(reply.xhot), int(reply.yhot)


def _shows_pointer_at(frame: Any, pointer: Any, hot: tuple[int, int], x: int, y: int) -> bool:
    """Opaque pointer pixels have the pointer's colour, transparent ones the background, at (x, y) - hot spot."""
    h, w = pointer.shape[:2]
    box = frame[y - hot[1]: y - hot[1] + h, x - hot[0]: x - hot[0] + w, :3]
    alpha = pointer[..., 3]
    return bool((box[alpha == 255] == pointer[..., :3][alpha == 255]).all()
                and (box[alpha == 0] == GREY_BGRA).all())


def test_frames_show_the_pointer_where_it_was_and_follow_it(xvfb: XServer, grey_screen: Any) -> None:
    first, second = (400, 300), (1500, 800)
    xvfb.run("xdotool", "mousemove", str(first[0]), str(first[1]))
    pointer, xhot, yhot = _pointer_image(grey_screen)
    assert (pointer[..., 3] == 255).sum() >= 10, "the pointer image has too few opaque pixels to test with"

    recorder = ReplayRecorder(ReplaySettings(fps=10, seconds=10), display=xvfb.display)
    recorder.start()
    try:
        time.sleep(0.6)
        xvfb.run("xdotool", "mousemove", str(second[0]), str(second[1]))
        time.sleep(0.6)
        assert recorder.state == RECORDING, recorder.error
        clip = recorder.snapshot()
    finally:
        recorder.stop()

    places = []
    for image in clip.images():
        at_first = _shows_pointer_at(image, pointer, (xhot, yhot), *first)
        at_second = _shows_pointer_at(image, pointer, (xhot, yhot), *second)
        assert at_first != at_second, "each frame shows exactly one pointer, at one of the two places"
        places.append(first if at_first else second)
        # Away from the pointer the screen is untouched.
        assert tuple(int(v) for v in image[100, 100, :3]) == GREY_BGRA
    assert places[0] == first and places[-1] == second
    assert places.index(second) == len(places) - places[::-1].index(first), "it moved once, in order"
