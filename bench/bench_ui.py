"""UI benchmarks, real processes under Xvfb + openbox:

1. hotkey -> form exposed: `xdotool key --delay 0 ctrl+alt+b`, 50 presses, median/p95; next to the floor:
   a bare Qt window shown on the same X key grab (ui.hotkey_x11), measured in the same run.
2. start -> tray ready, and idle RSS / CPU over 60 s (IDLE_SECONDS to shorten); the RSS next to the floor
   process's own (a bare QApplication with one window and the key grab, after its presses).

The load average is printed first and last: the floor's p95 moves with the machine's load, so compare runs
made at a low load.

Times use CLOCK_MONOTONIC, shared by all processes: the bench stamps just before xdotool runs, the app
prints `trace form-exposed <t>` at the form's first paint (REPORTER_APP_TRACE=1).

    python bench/bench_ui.py            # starts its own Xvfb (:57) and openbox
"""

from __future__ import annotations

import os
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PRESSES = int(os.environ.get("PRESSES", "50"))
IDLE_SECONDS = float(os.environ.get("IDLE_SECONDS", "60"))
DISPLAY = os.environ.get("BENCH_DISPLAY", ":57")

FLOOR_APP = r"""
import sys, time
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QLabel, QWidget
from ui.hotkey import parse_shortcut
from ui.hotkey_x11 import X11Hotkey
app = QApplication(sys.argv[:1])
window = QLabel("floor"); window.setWindowTitle("floor"); window.resize(600, 400)
class Painted(QObject):
    armed = False
    def eventFilter(self, obj, event):
        if self.armed and event.type() == QEvent.Type.Paint:
            self.armed = False
            print(f"trace form-exposed {time.monotonic():.6f}", flush=True)
        return False
painted = Painted(); window.installEventFilter(painted)
def toggle():
    if window.isVisible():
        window.hide(); return
    painted.armed = True; window.show(); window.raise_(); window.activateWindow()
key = X11Hotkey(parse_shortcut("Ctrl+Alt+B")); key.activated.connect(toggle)
hide = X11Hotkey(parse_shortcut("Ctrl+Alt+N")); hide.activated.connect(window.hide)
print(f"trace ready {time.monotonic():.6f}", flush=True)
app.exec()
"""


class Proc:
    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.p = subprocess.Popen(args, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                  stdin=subprocess.DEVNULL, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.p.stdout is not None
        for line in self.p.stdout:
            self.lines.put(line.strip())

    def wait(self, event: str, timeout: float = 10) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                parts = self.lines.get(timeout=0.1).split()
            except queue.Empty:
                continue
            if len(parts) == 3 and parts[:2] == ["trace", event]:
                return float(parts[2])
        raise TimeoutError(event)

    def stop(self) -> None:
        self.p.terminate()
        try:
            self.p.wait(5)
        except subprocess.TimeoutExpired:
            self.p.kill()


def key(env: dict[str, str], combo: str) -> float:
    start = time.monotonic()
    subprocess.run(["xdotool", "key", "--delay", "0", combo], env=env, check=True)
    return start


def presses(proc: Proc, env: dict[str, str], close_combo: str) -> list[float]:
    times = []
    for _ in range(PRESSES):
        start = key(env, "ctrl+alt+b")
        times.append((proc.wait("form-exposed") - start) * 1000)
        time.sleep(0.05)
        key(env, close_combo)
        time.sleep(0.15)
    return times


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(round(0.95 * len(ordered))) - 1)]


def summary(name: str, values: list[float]) -> str:
    return (f"{name:<28} n={len(values):3d}  median {statistics.median(values):6.1f} ms  p95 {p95(values):6.1f} ms  "
            f"first {values[0]:6.1f} ms  max {max(values):6.1f} ms")


def rss_mib(pid: int) -> float:
    import psutil

    return float(psutil.Process(pid).memory_info().rss) / 2**20


def idle(pid: int) -> tuple[float, float]:
    import psutil

    proc = psutil.Process(pid)
    before = proc.cpu_times()
    time.sleep(IDLE_SECONDS)
    after = proc.cpu_times()
    cpu = (after.user + after.system - before.user - before.system) / IDLE_SECONDS * 100
    return proc.memory_info().rss / 2**20, cpu


def main() -> int:
    env = dict(os.environ, DISPLAY=DISPLAY, QT_QPA_PLATFORM="xcb", REPORTER_APP_TRACE="1", PYTHONPATH=str(REPO))
    env.pop("WAYLAND_DISPLAY", None)
    xvfb = subprocess.Popen(["Xvfb", DISPLAY, "-screen", "0", "1920x1080x24", "-nolisten", "tcp", "-noreset"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    wm = subprocess.Popen(["openbox", "--sm-disable"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    try:
        floor = Proc([sys.executable, "-c", FLOOR_APP], env)
        floor.wait("ready")
        floor_times = presses(floor, env, "ctrl+alt+n")
        time.sleep(2)
        floor_rss = rss_mib(floor.p.pid)
        floor.stop()

        with tempfile.TemporaryDirectory() as home:
            app_env = dict(env, REPORTER_APP_HOME=home)
            started = time.monotonic()
            app = Proc([sys.executable, "-m", "reporter_app.cli"], app_env)
            ready_ms = (app.wait("ready", 20) - started) * 1000
            time.sleep(1)
            form_times = presses(app, app_env, "Escape")
            print(summary("floor (bare window on grab)", floor_times))
            print(summary("hotkey -> form exposed", form_times))
            ratio = p95(form_times) / p95(floor_times)
            print(f"p95 ratio form/floor: {ratio:.2f}x (goal <= 2x and p95 < 60 ms)")
            print(f"start -> tray ready: {ready_ms:.0f} ms (goal < 500 ms)")
            rss, cpu = idle(app.p.pid)
            print(f"idle over {IDLE_SECONDS:.0f} s: RSS {rss:.0f} MiB (goal < 100), CPU {cpu:.3f}% (goal < 0.2%)")
            print(f"idle RSS vs the floor process ({floor_rss:.0f} MiB): {rss / floor_rss:.2f}x")
            app.stop()
        print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    finally:
        wm.terminate()
        xvfb.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
