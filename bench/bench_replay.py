"""Screen replay: recorder CPU and memory on a screen that changes every frame, and the cost of encoding a clip.

Goals (issue 10): under 5% of one core, under 64 MB of buffer, a 30 s clip encoded in under 3 s.

Runs its own 1920x1080x24 Xvfb (always: the screen must be the one we animate). On it, a full-screen window of
log-like text scrolls by one line every 250 ms, so every recorded frame differs from the one before over the
whole screen (the expensive case for the delta codec; a real desktop changes far less).

1. The recorder alone (capture/replay.py, defaults: 2 fps, 30 s, cursor monitor) for 40 s: its thread's CPU
   time, the compressed buffer and the raw reference frame. Next to it, the same process idle for 10 s.
2. The real app (`reporter-app`, tray/fallback window) for 20 s with replay off, then 20 s with replay on:
   process CPU (psutil) and RSS.
3. Encoding the recorder's 30 s snapshot to WebM: time and size, without a limit and at 5 MB (Redmine's default).

    python bench/bench_replay.py [--seconds 40]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SCROLLER = r'''
import sys
from PySide6.QtCore import QTimer
from PySide6.QtGui import QColor, QFont, QPainter
from PySide6.QtWidgets import QApplication, QWidget

class Scroller(QWidget):
    def __init__(self):
        super().__init__()
        self.offset = 0
        self.timer = QTimer(self, interval=250, timeout=self.step)
        self.timer.start()
    def step(self):
        self.offset += 1
        self.update()
    def paintEvent(self, event):
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(250, 250, 250))
        p.setFont(QFont("DejaVu Sans Mono", 10))
        for i in range(72):
            n = i + self.offset
            p.setPen(QColor((n * 37) % 200, (n * 53) % 200, (n * 11) % 200))
            p.drawText(8, 14 + i * 15, f"{n:06d} 12:00:{n % 60:02d} INFO worker.{n % 7} request id={n * 7919:x} "
                       f"took {(n * 13) % 97} ms; queue={n % 31} cache=hit user=u{n % 1000}" * 2)
        p.fillRect(1500, 80, 360, 240, QColor(40, 90 + self.offset % 120, 160))
        p.end()

app = QApplication(sys.argv)
w = Scroller()
w.setGeometry(0, 0, 1920, 1080)
w.showFullScreen()
app.exec()
'''


def start_xvfb() -> tuple[subprocess.Popen[bytes], str]:
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-screen", "0", "1920x1080x24", "-nolisten", "tcp", "-noreset", "-displayfd", str(write_fd)],
        pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    data = b""
    while not data.endswith(b"\n"):
        chunk = os.read(read_fd, 64)
        if not chunk:
            raise RuntimeError("Xvfb did not start")
        data += chunk
    os.close(read_fd)
    return proc, f":{int(data.strip())}"


def cpu_and_rss(pid: int, seconds: float) -> tuple[float, float]:
    """Percent of one core used by the process over `seconds`, and its RSS (MB) at the end."""
    import psutil

    proc = psutil.Process(pid)
    before = proc.cpu_times()
    time.sleep(seconds)
    after = proc.cpu_times()
    used = (after.user - before.user) + (after.system - before.system)
    return 100 * used / seconds, proc.memory_info().rss / 2**20


def bench_recorder(seconds: float) -> object:
    import psutil

    from capture.replay import ReplayRecorder, ReplaySettings

    own = psutil.Process()
    idle_cpu, idle_rss = cpu_and_rss(own.pid, 10)
    print(f"bench process idle: {idle_cpu:.2f}% of one core, RSS {idle_rss:.0f} MB")
    recorder = ReplayRecorder(ReplaySettings(), display=os.environ["DISPLAY"])
    recorder.start()
    time.sleep(2)  # first frames, imports (numpy, mss) out of the way
    start_stats = recorder.stats()
    started = time.monotonic()
    proc_cpu, rss = cpu_and_rss(own.pid, seconds)
    elapsed = time.monotonic() - started
    stats = recorder.stats()
    thread_cpu = 100 * (stats.cpu_seconds - start_stats.cpu_seconds) / elapsed
    print(f"recorder at 2 fps, whole screen changing every frame, {elapsed:.0f} s:")
    print(f"  recorder thread CPU:   {thread_cpu:.2f}% of one core (goal < 5%); "
          f"whole process {proc_cpu:.2f}% (idle {idle_cpu:.2f}%)")
    ms_per_frame = 1000 * (stats.cpu_seconds - start_stats.cpu_seconds) / max(1, stats.grabs - start_stats.grabs)
    print(f"  per frame:             {ms_per_frame:.1f} ms CPU (grab + diff + zlib)")
    print(f"  buffer:                {stats.frames} frames, {stats.seconds:.1f} s, compressed "
          f"{stats.buffer_bytes / 2**20:.1f} MB + reference frame {stats.reference_bytes / 2**20:.1f} MB = "
          f"{(stats.buffer_bytes + stats.reference_bytes) / 2**20:.1f} MB (goal < 64 MB)")
    print(f"  process RSS:           {rss:.0f} MB (idle {idle_rss:.0f} MB, +{rss - idle_rss:.0f} MB)")
    clip = recorder.snapshot()
    recorder.stop()
    return clip


def bench_encode(clip: object) -> None:
    from capture.replay_encode import ReplaySelection, encode_selection

    selection = ReplaySelection(clip)  # type: ignore[arg-type]
    for limit in (None, 5 * 2**20, 1 * 2**20):
        cpu = time.process_time()
        result = encode_selection(selection, max_bytes=limit)
        cpu = time.process_time() - cpu  # wall time suffers when the machine is busy; CPU time says the work
        label = "no limit" if limit is None else f"limit {limit / 2**20:.0f} MB"
        print(f"encode {result.seconds:.0f} s clip ({label}): {result.took_seconds:.2f} s wall (goal < 3 s), {cpu:.2f} s CPU, "
              f"{len(result.data) / 2**20:.2f} MB; {result.note}")


def bench_app(display: str, seconds: float) -> None:
    from tests.support.display import XServer  # noqa: F401 - only to be sure the repo is importable

    for enabled in ("false", "true"):
        home = Path(tempfile.mkdtemp(prefix="bench-replay-"))
        (home / "config.toml").write_text(f"[replay]\nenabled = {enabled}\n", encoding="utf-8")
        env = dict(os.environ, REPORTER_APP_HOME=str(home), QT_QPA_PLATFORM="xcb", DISPLAY=display)
        proc = subprocess.Popen([sys.executable, "-m", "reporter_app.cli"], env=env, cwd=REPO,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(4)  # started, first frames taken
            cpu, rss = cpu_and_rss(proc.pid, seconds)
            print(f"app, replay {'on ' if enabled == 'true' else 'off'}: {cpu:.2f}% of one core, RSS {rss:.0f} MB "
                  f"({seconds:.0f} s)")
        finally:
            proc.terminate()
            proc.wait(10)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--app-seconds", type=float, default=20.0)
    args = parser.parse_args()
    xvfb, display = start_xvfb()
    os.environ["DISPLAY"] = display
    os.environ.pop("WAYLAND_DISPLAY", None)
    scroller = subprocess.Popen([sys.executable, "-c", SCROLLER], env=dict(os.environ, QT_QPA_PLATFORM="xcb"))
    try:
        time.sleep(2)
        print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start")
        clip = bench_recorder(args.seconds)
        bench_encode(clip)
        bench_app(display, args.app_seconds)
        print(f"load average {os.getloadavg()[0]:.2f} at the end (other work on the machine skews CPU figures)")
    finally:
        scroller.terminate()
        scroller.wait(10)
        xvfb.terminate()
        xvfb.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
