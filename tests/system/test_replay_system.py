"""Screen replay end to end: the real app records a scripted sequence of windows (red, green, blue), the reporter
attaches the replay from the form, and the video in the local tracker's ticket shows that sequence in order."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.display import XServer
from tests.system.support_ui import ColourWindow, RunningApp, save_screenshot, start_app, wait_file, wait_window, xdotool

av = pytest.importorskip("av", reason="screen replay needs the 'replay' extra (PyAV)")
pytest.importorskip("numpy", reason="screen replay needs the 'replay' extra (numpy)")

SEQUENCE = {"red": (220, 30, 30), "green": (30, 200, 60), "blue": (30, 60, 220)}
SHOW_SECONDS = 1.5


@pytest.fixture
def app(openbox: XServer, reporter_home: Path) -> Iterator[RunningApp]:
    (reporter_home / "config.toml").write_text(
        '[reporter]\nname = "Ada Tester"\nrole = "qa"\n\n[replay]\nenabled = true\nseconds = 30\nfps = 2.0\n',
        encoding="utf-8")
    running = start_app(openbox, reporter_home)
    try:
        running.wait_trace("ready")
        yield running
    finally:
        running.stop()


def _name(rgb: tuple[int, int, int]) -> str | None:
    for name, want in SEQUENCE.items():
        if all(abs(int(a) - b) < 40 for a, b in zip(rgb, want)):
            return name
    return None


def test_replay_of_a_window_sequence_is_attached_and_decodes_in_order(
        app: RunningApp, openbox: XServer, reporter_home: Path) -> None:
    xdotool(openbox, "mousemove", "5", "5")  # frames carry the pointer: keep it off the centre pixel sampled below
    time.sleep(1.0)  # a few frames of the plain desktop first
    windows = []
    try:
        for rgb in SEQUENCE.values():
            windows.append(ColourWindow(openbox, rgb))  # each one stacks above the last
            time.sleep(SHOW_SECONDS)
        xdotool(openbox, "key", "--delay", "0", "ctrl+alt+b")
        app.wait_trace("form-exposed")
        wait_window(openbox, "^Report a problem$")
    finally:
        for window in reversed(windows):
            window.close()
    xdotool(openbox, "type", "--delay", "2", "Blue screen after green")
    xdotool(openbox, "key", "--delay", "0", "alt+2")
    xdotool(openbox, "key", "--delay", "0", "alt+n")  # "Screen replay (N s)…"
    wait_window(openbox, "^Screen replay$")
    time.sleep(0.3)
    save_screenshot(openbox, "replay-panel.png")
    xdotool(openbox, "key", "--delay", "0", "Return")  # "Attach the replay" is the default button
    time.sleep(0.3)
    xdotool(openbox, "key", "--delay", "0", "ctrl+Return")

    ticket_dir = reporter_home / "data" / "local-tracker" / "LOCAL-1"
    ticket = json.loads(wait_file(ticket_dir / "ticket.json", timeout=60).read_text(encoding="utf-8"))
    videos = sorted(ticket_dir.rglob("replay.webm"))
    assert videos, f"no replay attached: {ticket.get('attachments')}"
    with av.open(str(videos[0])) as container:
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    assert frames and frames[0].shape[:2] == (openbox.height, openbox.width)
    seen: list[str] = []
    for frame in frames:
        name = _name(tuple(frame[openbox.height // 2, openbox.width // 2]))
        if name and (not seen or seen[-1] != name):
            seen.append(name)
    assert seen == ["red", "green", "blue"], f"colour sequence in the replay: {seen}"
    # About SHOW_SECONDS at 2 fps each, give or take a frame: the timing survived too.
    counts = {n: sum(1 for f in frames if _name(tuple(f[openbox.height // 2, openbox.width // 2])) == n)
              for n in SEQUENCE}
    assert all(2 <= c <= 5 for c in counts.values()), counts
