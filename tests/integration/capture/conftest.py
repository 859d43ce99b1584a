"""Real X servers for capture tests: Xvfb with two monitors (xrandr --setmonitor), optionally openbox.

Kept free of project imports so they can be lifted into a shared conftest later.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

LEFT_COLOR = "#ff0000"
RIGHT_COLOR = "#0000ff"


def need(*binaries: str) -> None:
    missing = [b for b in binaries if shutil.which(b) is None]
    if missing:
        pytest.skip(f"system binary missing: {', '.join(missing)} (apt-get install xvfb xdotool x11-xserver-utils x11-utils openbox)")


@dataclass
class XServer:
    display: str
    width: int
    height: int
    process: subprocess.Popen[bytes]
    env: dict[str, str] = field(default_factory=dict)

    def run(self, *args: str, check: bool = True) -> str:
        done = subprocess.run(args, env=self.env, capture_output=True, text=True, timeout=20, check=False)
        if check and done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
        return done.stdout


def start_xvfb(width: int, height: int) -> XServer:
    """Start ``Xvfb -displayfd`` (no guessing a free number) and wait until it says it's ready."""
    read_fd, write_fd = os.pipe()
    process = subprocess.Popen(
        ["Xvfb", "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp", "-noreset", "-displayfd", str(write_fd)],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    number = b""
    deadline = time.monotonic() + 10
    with os.fdopen(read_fd, "rb") as pipe:
        while not number.endswith(b"\n") and time.monotonic() < deadline:
            chunk = pipe.read(1)
            if not chunk:
                break
            number += chunk
    if not number.strip():
        process.kill()
        raise RuntimeError("Xvfb did not report a display number")
    display = f":{number.decode().strip()}"
    env = dict(os.environ, DISPLAY=display)
    env.pop("WAYLAND_DISPLAY", None)
    env["XDG_SESSION_TYPE"] = "x11"
    return XServer(display, width, height, process, env)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def split_monitors(server: XServer) -> None:
    """Two 1920-wide monitors on one screen, as the platform notes measured (needs -noreset)."""
    half = server.width // 2
    server.run("xrandr", "--setmonitor", "*LEFT", f"{half}/508x{server.height}/286+0+0", "screen")
    server.run("xrandr", "--setmonitor", "RIGHT", f"{half}/508x{server.height}/286+{half}+0", "none")


@pytest.fixture(scope="session")
def xvfb_two_monitors() -> Iterator[XServer]:
    need("Xvfb", "xrandr")
    server = start_xvfb(3840, 1080)
    try:
        split_monitors(server)
        yield server
    finally:
        stop(server.process)


@pytest.fixture
def x_env(xvfb_two_monitors: XServer, monkeypatch: pytest.MonkeyPatch) -> XServer:
    """Point this test's process at the Xvfb (DISPLAY, X11 session)."""
    monkeypatch.setenv("DISPLAY", xvfb_two_monitors.display)
    monkeypatch.setenv("XDG_SESSION_TYPE", "x11")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    return xvfb_two_monitors


@pytest.fixture(scope="session")
def openbox_two_monitors(xvfb_two_monitors: XServer) -> Iterator[XServer]:
    """An EWMH window manager on the shared Xvfb, for active-window tests."""
    need("openbox", "xdotool", "xprop")
    server = xvfb_two_monitors
    # A previous WM leaves its check property behind; remove it so readiness means *this* WM.
    server.run("xprop", "-root", "-remove", "_NET_SUPPORTING_WM_CHECK", check=False)
    process = subprocess.Popen(["openbox", "--sm-disable"], env=server.env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    # openbox is ready once it publishes _NET_SUPPORTING_WM_CHECK on the root window.
    while "window id" not in server.run("xprop", "-root", "_NET_SUPPORTING_WM_CHECK", check=False):
        if time.monotonic() > deadline:
            stop(process)
            raise RuntimeError("openbox did not start")
        time.sleep(0.05)
    try:
        yield server
    finally:
        stop(process)
