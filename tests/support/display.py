"""Virtual X screens for the tests: Xvfb (one 1920x1080 monitor, or two side by side), openbox, a tray host.

A pytest plugin (registered by ``tests/conftest.py``). Fixtures:

``xvfb``
    A 1920x1080x24 Xvfb (one per test session, started on first use). For the test that requests it, ``DISPLAY`` is
    set and ``QT_QPA_PLATFORM=xcb`` (so a ``reporter-app`` subprocess uses it). Returns an :class:`XServer`.
``xvfb_dual``
    The same with one 3840x1080 screen split into two monitors by ``xrandr --setmonitor``: LEFT (primary) at
    0,0 and RIGHT at 1920,0, both 1920x1080. ``mss.MSS().monitors`` lists both.
``openbox``
    ``xvfb`` plus the openbox window manager (EWMH: active window, focus), started for this test only.
``tray_host``
    ``xvfb`` plus ``trayer`` owning the system tray selection, for this test only. Without it there is no tray host.
``start_openbox`` / ``start_tray_host``
    Factories taking an :class:`XServer` (e.g. ``xvfb_dual``), for the combinations above do not cover.

In-process Qt: one QApplication per process, bound to the display it was created on. ``tests/system/conftest.py``
creates it on the session's ``xvfb``; the other tiers use the offscreen platform (``tests/conftest.py``).

Missing Xvfb & co. skip the test locally and fail it under CI / ``scripts/test-all`` (see ``tests.support.env``).
When a test that uses a screen fails, a screenshot of it goes to ``.test-artifacts/screenshots/``.
"""

from __future__ import annotations

import atexit
import os
import re
import select
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.env import ARTIFACTS_DIR, require_executable, unavailable

SCREEN_W, SCREEN_H, DEPTH = 1920, 1080, 24
START_TIMEOUT = 15.0


@dataclass(frozen=True)
class Monitor:
    name: str
    left: int
    top: int
    width: int
    height: int
    primary: bool = False


@dataclass
class XServer:
    """A running Xvfb."""

    display: str  # ":N"
    width: int
    height: int
    monitors: tuple[Monitor, ...]
    process: subprocess.Popen[bytes]
    log_path: Path
    _children: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        """The environment for a client of this display (a copy of os.environ with DISPLAY set)."""
        env = dict(os.environ)
        env.pop("WAYLAND_DISPLAY", None)
        env["DISPLAY"] = self.display
        env["QT_QPA_PLATFORM"] = "xcb"
        return env

    def run(self, *args: str, check: bool = True, timeout: float = 10) -> subprocess.CompletedProcess[str]:
        """Run an X client (xrandr, xdotool, xprop, ...) against this display."""
        return subprocess.run(args, env=self.env, check=check, timeout=timeout, capture_output=True, text=True)

    def alive(self) -> bool:
        return self.process.poll() is None

    def screenshot(self, path: str | os.PathLike[str]) -> Path:
        """Save the whole screen as PNG (via mss)."""
        import mss
        import mss.tools

        with mss.MSS(display=self.display) as sct:
            shot = sct.grab(sct.monitors[0])
            mss.tools.to_png(shot.rgb, shot.size, output=str(path))
        return Path(path)

    def stop(self) -> None:
        for child in reversed(self._children):
            _terminate(child)
        self._children.clear()
        _terminate(self.process)


def _terminate(proc: subprocess.Popen[bytes], timeout: float = 5) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout)


def start_xvfb(log_dir: Path, width: int = SCREEN_W, height: int = SCREEN_H, depth: int = DEPTH) -> XServer:
    """Start ``Xvfb -displayfd``: Xvfb picks a free display number and writes it to the pipe when it is ready."""
    xvfb = require_executable("Xvfb", "xvfb")
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = Path(tempfile.mkstemp(prefix="xvfb-", suffix=".log", dir=log_dir)[1])
    read_fd, write_fd = os.pipe()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [xvfb, "-displayfd", str(write_fd), "-screen", "0", f"{width}x{height}x{depth}",
             "-nolisten", "tcp", "-noreset"],
            pass_fds=(write_fd,), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    os.close(write_fd)
    data = b""
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while not data.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([read_fd], [], [], remaining)[0]:
                _terminate(proc)
                raise RuntimeError(f"Xvfb did not report a display within {START_TIMEOUT}s; log: {log_path}")
            chunk = os.read(read_fd, 64)
            if not chunk:
                proc.wait(5)
                raise RuntimeError(f"Xvfb exited ({proc.returncode}): {log_path.read_text(errors='replace')[-2000:]}")
            data += chunk
    finally:
        os.close(read_fd)
    display = f":{int(data.strip())}"
    return XServer(display, width, height, (Monitor("screen", 0, 0, width, height, True),), proc, log_path)


def start_xvfb_dual(log_dir: Path) -> XServer:
    """One 3840x1080 screen, two 1920x1080 monitors (LEFT primary, RIGHT), as xrandr describes them to clients."""
    xrandr = require_executable("xrandr", "x11-xserver-utils")
    server = start_xvfb(log_dir, 2 * SCREEN_W, SCREEN_H)
    try:
        # W/mmW x H/mmH +X+Y: 1920 px over 508 mm is 96 dpi. `-noreset` keeps them after the last client leaves.
        server.run(xrandr, "--setmonitor", "*LEFT", f"{SCREEN_W}/508x{SCREEN_H}/286+0+0", "screen")
        server.run(xrandr, "--setmonitor", "RIGHT", f"{SCREEN_W}/508x{SCREEN_H}/286+{SCREEN_W}+0", "none")
        listed = server.run(xrandr, "--listmonitors").stdout
        if not listed.startswith("Monitors: 2"):
            raise RuntimeError(f"xrandr did not set up two monitors:\n{listed}")
    except BaseException:
        server.stop()
        raise
    server.monitors = (
        Monitor("LEFT", 0, 0, SCREEN_W, SCREEN_H, primary=True),
        Monitor("RIGHT", SCREEN_W, 0, SCREEN_W, SCREEN_H),
    )
    return server


def _qt_app_on_x11() -> bool:
    """True when this process has a QGuiApplication on X11 (it would die if its X server went away under it)."""
    qtgui = sys.modules.get("PySide6.QtGui")
    if qtgui is None:
        return False
    app = qtgui.QGuiApplication.instance()
    return app is not None and qtgui.QGuiApplication.platformName() == "xcb"


def _server_fixture(factory: Callable[[Path], XServer], tmp_path_factory: pytest.TempPathFactory) -> Iterator[XServer]:
    try:
        server = factory(tmp_path_factory.mktemp("xvfb"))
    except RuntimeError as exc:
        unavailable(str(exc))
    yield server
    if _qt_app_on_x11():
        # Qt's xcb plugin exits the process when its X connection breaks: keep the server until Python exits.
        atexit.register(server.stop)
    else:
        server.stop()


@pytest.fixture(scope="session")
def xvfb_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[XServer]:
    """The session's single-monitor Xvfb, without touching DISPLAY (prefer ``xvfb``)."""
    yield from _server_fixture(start_xvfb, tmp_path_factory)


@pytest.fixture(scope="session")
def xvfb_dual_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[XServer]:
    """The session's two-monitor Xvfb, without touching DISPLAY (prefer ``xvfb_dual``)."""
    yield from _server_fixture(start_xvfb_dual, tmp_path_factory)


def _use(server: XServer, monkeypatch: pytest.MonkeyPatch) -> XServer:
    if not server.alive():
        pytest.fail(f"Xvfb {server.display} died; log: {server.log_path}", pytrace=False)
    monkeypatch.setenv("DISPLAY", server.display)
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    return server


@pytest.fixture
def xvfb(xvfb_server: XServer, monkeypatch: pytest.MonkeyPatch) -> XServer:
    """A 1920x1080 virtual screen; DISPLAY points at it during the test."""
    return _use(xvfb_server, monkeypatch)


@pytest.fixture
def xvfb_dual(xvfb_dual_server: XServer, monkeypatch: pytest.MonkeyPatch) -> XServer:
    """Two 1920x1080 monitors side by side (one 3840x1080 screen); DISPLAY points at it during the test."""
    return _use(xvfb_dual_server, monkeypatch)


def _wm_check_window(server: XServer) -> str | None:
    """The EWMH window manager's check window, if a live window manager set one (the property outlives it)."""
    out = server.run("xprop", "-root", "_NET_SUPPORTING_WM_CHECK", check=False).stdout
    match = re.search(r"window id # (0x[0-9a-fA-F]+)", out)
    if not match:
        return None
    own = server.run("xprop", "-id", match.group(1), "_NET_SUPPORTING_WM_CHECK", check=False)
    return match.group(1) if own.returncode == 0 and match.group(1) in own.stdout else None


def _wait_for(what: str, condition: Callable[[], bool], proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not condition():
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited ({proc.returncode}): {log.read_text(errors='replace')[-2000:]}")
        if time.monotonic() > deadline:
            _terminate(proc)
            raise RuntimeError(f"{what} not ready after {START_TIMEOUT}s; log: {log}")
        time.sleep(0.01)


def _spawn(server: XServer, args: list[str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen(
            args, env=server.env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


@dataclass
class Helper:
    """A helper process (window manager, tray host) on an X server."""

    server: XServer
    process: subprocess.Popen[bytes]
    log_path: Path

    def stop(self) -> None:
        _terminate(self.process)
        if self.process in self.server._children:
            self.server._children.remove(self.process)


def launch_openbox(server: XServer, log_dir: Path) -> Helper:
    """Start openbox on ``server`` and wait until it manages the screen (a live _NET_SUPPORTING_WM_CHECK window)."""
    openbox = require_executable("openbox", "openbox")
    require_executable("xprop", "x11-utils")
    if _wm_check_window(server):
        raise RuntimeError(f"{server.display} already has a window manager")
    log = log_dir / "openbox.log"
    proc = _spawn(server, [openbox, "--sm-disable"], log)
    server._children.append(proc)
    _wait_for("openbox", lambda: _wm_check_window(server) is not None, proc, log)
    return Helper(server, proc, log)


def _tray_owned(server: XServer) -> bool:
    from Xlib import X, display  # python-xlib: a dependency of the app on Linux

    d = display.Display(server.display)
    try:
        screen = int(server.display.rsplit(".", 1)[-1]) if "." in server.display else 0
        owner = d.get_selection_owner(d.intern_atom(f"_NET_SYSTEM_TRAY_S{screen}"))
        return owner not in (X.NONE, 0) and getattr(owner, "id", owner) != 0
    finally:
        d.close()


def launch_tray_host(server: XServer, log_dir: Path) -> Helper:
    """Start trayer (a system tray host) on ``server`` and wait until it owns the tray selection."""
    trayer = require_executable("trayer", "trayer")
    log = log_dir / "trayer.log"
    proc = _spawn(
        server,
        [trayer, "--edge", "top", "--align", "right", "--widthtype", "request", "--height", "24",
         "--SetDockType", "true", "--SetPartialStrut", "true", "--expand", "true", "--transparent", "false"],
        log,
    )  # fmt: skip
    server._children.append(proc)
    _wait_for("trayer", lambda: _tray_owned(server), proc, log)
    return Helper(server, proc, log)


@pytest.fixture
def start_openbox(tmp_path: Path) -> Iterator[Callable[[XServer], Helper]]:
    """Factory: ``start_openbox(xvfb_dual)``; stopped after the test."""
    started: list[Helper] = []

    def start(server: XServer) -> Helper:
        try:
            helper = launch_openbox(server, tmp_path)
        except RuntimeError as exc:
            unavailable(str(exc))
        started.append(helper)
        return helper

    yield start
    for helper in reversed(started):
        helper.stop()


@pytest.fixture
def start_tray_host(tmp_path: Path) -> Iterator[Callable[[XServer], Helper]]:
    """Factory: ``start_tray_host(xvfb)``; stopped after the test."""
    started: list[Helper] = []

    def start(server: XServer) -> Helper:
        try:
            helper = launch_tray_host(server, tmp_path)
        except RuntimeError as exc:
            unavailable(str(exc))
        started.append(helper)
        return helper

    yield start
    for helper in reversed(started):
        helper.stop()



@pytest.fixture
def openbox(xvfb: XServer, start_openbox: Callable[[XServer], Helper]) -> XServer:
    """``xvfb`` with the openbox window manager running for this test."""
    start_openbox(xvfb)
    return xvfb


@pytest.fixture
def tray_host(xvfb: XServer, start_tray_host: Callable[[XServer], Helper]) -> XServer:
    """``xvfb`` with a system tray host (trayer) running for this test."""
    start_tray_host(xvfb)
    return xvfb


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call" and report.failed:
        funcargs = getattr(item, "funcargs", {})
        for name in ("xvfb", "xvfb_dual"):
            server = funcargs.get(name)
            if isinstance(server, XServer) and server.alive():
                out = Path(ARTIFACTS_DIR) / "screenshots" / (re.sub(r"[^\w.-]+", "_", item.nodeid) + f"-{name}.png")
                try:
                    out.parent.mkdir(parents=True, exist_ok=True)
                    server.screenshot(out)
                    report.sections.append(("screenshot", str(out)))
                except Exception as exc:  # noqa: BLE001 - a failed screenshot must not hide the test's failure
                    report.sections.append(("screenshot", f"failed: {exc!r}"))
    return report
