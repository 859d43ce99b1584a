"""Drawing the mouse pointer into a replay frame: XFixes' premultiplied alpha, clipping at the monitor's edges."""

from __future__ import annotations

from typing import Any

import pytest

np = pytest.importorskip("numpy", reason="screen replay needs the 'replay' extra (numpy)")

from capture.replay import CursorImage, draw_cursor  # noqa: E402 - after the importorskip

GREY = (100, 100, 100, 255)


def _frame(h: int = 20, w: int = 30) -> Any:
    frame = np.empty((h, w, 4), np.uint8)
    frame[...] = GREY
    return frame


def _cursor(x: int, y: int, pixels: Any, hot: tuple[int, int] = (0, 0)) -> CursorImage:
    h, w = pixels.shape[:2]
    return CursorImage(x=x, y=y, xhot=hot[0], yhot=hot[1], width=w, height=h, pixels=pixels.astype(np.uint8).tobytes())


def test_opaque_pixels_replace_transparent_ones_keep_and_half_alpha_blends() -> None:
    pixels = np.zeros((2, 3, 4), np.uint8)
    pixels[0, 0] = (10, 20, 30, 255)  # opaque: B, G, R, A
    pixels[0, 1] = (0, 0, 0, 0)  # transparent
    pixels[0, 2] = (64, 0, 128, 128)  # half, premultiplied
    frame = _frame()
    draw_cursor(frame, _cursor(5, 4, pixels))
    assert tuple(frame[4, 5]) == (10, 20, 30, 255)
    assert tuple(frame[4, 6]) == GREY
    # premultiplied: out = src + dst * (255 - a) / 255 = 64 + 100 * 127 / 255 = 113.8 -> 114
    assert tuple(frame[4, 7]) == (114, 50, 178, 255)
    untouched = np.ones(frame.shape[:2], bool)
    untouched[4, 5:8] = False
    assert (frame[untouched] == GREY).all(), "nothing outside the pointer changes"


def test_the_hot_spot_is_where_the_pointer_is() -> None:
    pixels = np.zeros((3, 3, 4), np.uint8)
    pixels[1, 1] = (255, 255, 255, 255)  # the hot spot of a 3x3 cross-hair
    frame = _frame()
    draw_cursor(frame, _cursor(10, 8, pixels, hot=(1, 1)))
    assert tuple(frame[8, 10]) == (255, 255, 255, 255)


@pytest.mark.parametrize("x, y", [(-2, -1), (28, 18)])
def test_a_pointer_half_off_the_frame_is_clipped(x: int, y: int) -> None:
    pixels = np.full((4, 4, 4), 255, np.uint8)
    frame = _frame()
    draw_cursor(frame, _cursor(x, y, pixels))
    white = np.argwhere((frame == 255).all(axis=2))
    assert len(white) == (4 - abs(min(x, 0)) - max(0, x + 4 - 30)) * (4 - abs(min(y, 0)) - max(0, y + 4 - 20))
    assert white.size > 0


def test_a_second_monitor_uses_its_own_origin_and_the_other_monitor_is_left_alone() -> None:
    pixels = np.full((2, 2, 4), 255, np.uint8)
    right = _frame()
    draw_cursor(right, _cursor(1920 + 3, 5, pixels), left=1920, top=0)
    assert (right[5:7, 3:5] == 255).all()
    left = _frame()
    draw_cursor(left, _cursor(1920 + 3, 5, pixels), left=0, top=0)  # the pointer is on the other monitor
    assert (left == GREY).all()


def test_a_cursor_that_is_not_premultiplied_saturates_instead_of_wrapping_round() -> None:
    pixels = np.array([[[250, 250, 250, 10]]], np.uint8)  # colour above its alpha: not premultiplied
    frame = _frame()
    draw_cursor(frame, _cursor(0, 0, pixels))
    assert tuple(frame[0, 0]) == (255, 255, 255, 255)
