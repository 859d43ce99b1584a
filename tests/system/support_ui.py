"""Helpers for driving the real reporter-app under Xvfb: start it, wait for its trace events, paint a known
colour on screen, find windows with xdotool, save screenshots as artifacts.

The app prints ``trace <event> <monotonic>`` lines on stdout when REPORTER_APP_TRACE=1 (ui/main.py).
"""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.display import XServer

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"  # gitignored; CI uploads it


@dataclass
class RunningApp:
    process: subprocess.Popen[str]
    home: Path
    server: XServer
    output: list[str] = field(default_factory=list)
    _lines: queue.Queue[str] = field(default_factory=queue.Queue)
    pump: threading.Thread | None = None

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line.rstrip("\n"))

    def wait_trace(self, event: str, timeout: float = 15.0) -> float:
        """The monotonic time of the next ``trace <event>`` line."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no 'trace {event}' within {timeout}s; output:\n" + "\n".join(self.output))
            try:
                line = self._lines.get(timeout=min(remaining, 0.2))
            except queue.Empty:
                if self.process.poll() is not None:
                    raise AssertionError(f"the app exited ({self.process.returncode}) waiting for {event}:\n"
                                         + "\n".join(self.output)) from None
                continue
            self.output.append(line)
            parts = line.split()
            # `trace <event> <monotonic>[ <detail>]` (ui/main.py); the detail is read from `output`, see `details`.
            if len(parts) >= 3 and parts[0] == "trace" and parts[1] == event:
                return float(parts[2])

    def details(self, event: str) -> list[str]:
        """The detail of every ``trace <event>`` line read so far (a notice's title), in order."""
        found = []
        for line in self.output:
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[0] == "trace" and parts[1] == event:
                found.append(parts[3] if len(parts) == 4 else "")
        return found

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if self.pump is not None:
            self.pump.join(5)  # EOF once the process is gone; close only after the reader is done
        if self.process.stdout is not None:
            self.process.stdout.close()


def start_app(server: XServer, home: Path, *args: str, extra_env: dict[str, str] | None = None) -> RunningApp:
    env = server.env
    env.update(REPORTER_APP_HOME=str(home), REPORTER_APP_TRACE="1", PYTHONUNBUFFERED="1")
    env.update(extra_env or {})
    process = subprocess.Popen([sys.executable, "-m", "reporter_app.cli", *args], env=env, cwd=REPO_ROOT,
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    app = RunningApp(process, home, server)
    app.pump = threading.Thread(target=app._pump, daemon=True)
    app.pump.start()
    return app


class ColourWindow:
    """A full-screen override-redirect window of one colour: what "was on screen" before the hotkey.

    Override-redirect: the window manager leaves it exactly where it is; windows mapped later stack above it.
    """

    def __init__(self, server: XServer, rgb: tuple[int, int, int]) -> None:
        from Xlib import X, display

        self.display: Any = display.Display(server.display)
        screen = self.display.screen()
        pixel = (rgb[0] << 16) | (rgb[1] << 8) | rgb[2]  # depth 24 TrueColor: the pixel is the colour
        self.window = screen.root.create_window(
            0, 0, server.width, server.height, 0, screen.root_depth, X.InputOutput, X.CopyFromParent,
            background_pixel=pixel, override_redirect=True)
        self.window.set_wm_name("colour-target")
        self.window.map()
        self.display.sync()

    def close(self) -> None:
        self.window.unmap()
        self.window.destroy()
        self.display.close()


def xdotool(server: XServer, *args: str) -> str:
    return server.run("xdotool", *args, check=False).stdout.strip()


def wait_window(server: XServer, name_regex: str, timeout: float = 10.0) -> str:
    """The id of a visible window whose name matches, waiting for it to appear."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = xdotool(server, "search", "--onlyvisible", "--name", name_regex)
        if found:
            return found.splitlines()[0]
        time.sleep(0.05)
    raise AssertionError(f"no visible window named /{name_regex}/ after {timeout}s")


def save_screenshot(server: XServer, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return server.screenshot(ARTIFACTS / name)


def wait_file(path: Path, timeout: float = 20.0) -> Path:
    deadline = time.monotonic() + timeout
    while not path.is_file():
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} did not appear within {timeout}s")
        time.sleep(0.05)
    return path
