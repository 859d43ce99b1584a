"""Screen replay on a real X server: the recorder thread grabs real frames with its own mss, and they decode."""

from __future__ import annotations

import time

import pytest

from tests.support.display import XServer

np = pytest.importorskip("numpy")

from capture.replay import RECORDING, ReplayRecorder, ReplaySettings  # noqa: E402


def _solid(server: XServer, rgb: tuple[int, int, int]):  # type: ignore[no-untyped-def]
    from Xlib import X, display

    d = display.Display(server.display)
    screen = d.screen()
    window = screen.root.create_window(0, 0, server.width, server.height, 0, screen.root_depth, X.InputOutput,
                                       X.CopyFromParent, background_pixel=(rgb[0] << 16) | (rgb[1] << 8) | rgb[2],
                                       override_redirect=True)
    window.map()
    d.sync()
    return d, window


def test_recorder_records_real_frames_in_order(xvfb: XServer) -> None:
    xvfb.run("xdotool", "mousemove", "0", "0")  # frames carry the pointer: keep it off the pixel sampled below
    recorder = ReplayRecorder(ReplaySettings(fps=5, seconds=10), display=xvfb.display)
    shown = []
    recorder.start()
    try:
        for rgb in ((255, 0, 0), (0, 0, 255)):
            shown.append(_solid(xvfb, rgb))
            time.sleep(0.8)
        assert recorder.state == RECORDING, recorder.error
        clip = recorder.snapshot()
        stats = recorder.stats()
    finally:
        recorder.stop()
        for d, window in shown:
            window.destroy()
            d.close()
    assert clip.size == (xvfb.width, xvfb.height)
    centres = [tuple(int(v) for v in image[xvfb.height // 2, xvfb.width // 2, :3]) for image in clip.images()]
    sequence = [c for i, c in enumerate(centres) if i == 0 or centres[i - 1] != c]
    red, blue = (0, 0, 255), (255, 0, 0)  # BGRA memory order
    assert red in sequence and blue in sequence and sequence.index(red) < sequence.index(blue), sequence
    assert stats.grabs >= 5 and stats.buffer_bytes > 0


def test_excluded_window_by_title_leaves_no_frames(xvfb: XServer) -> None:
    recorder = ReplayRecorder(ReplaySettings(fps=10, exclude_windows=("secret vault",)), display=xvfb.display,
                              foreground=lambda: {"title": "My Secret Vault", "window_class": "vault"})
    recorder.start()
    try:
        time.sleep(0.5)
        assert recorder.snapshot().count == 0
        assert recorder.stats().grabs == 0
    finally:
        recorder.stop()
