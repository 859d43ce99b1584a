"""Screen replay: recorder CPU and memory on a screen that changes every frame, and the cost of encoding a clip.

Goals (issue 10): under 5% of one core, under 64 MB of buffer, a 30 s clip encoded in under 3 s.

Runs its own 1920x1080x24 Xvfb (always: the screen must be the one we animate). On it, a full-screen window of
log-like text scrolls by one line every 250 ms, so every recorded frame differs from the one before over the
whole screen (the expensive case for the delta codec; a real desktop changes far less).

1. The recorder alone (capture/replay.py, defaults: 2 fps, 30 s, cursor monitor, pointer drawn) for 40 s: its
   thread's CPU time, the compressed buffer and the raw reference frame. Next to it, the same process idle for
   10 s, and the same recorder with CPython's zlib instead of ISA-L for 20 s (the reference for the ratio).
2. Encoding the recorder's 30 s snapshot to WebM: time and size, without a limit, at 5 MB (Redmine's default)
   and at 1 MB.
3. The real app (`reporter-app`, tray/fallback window, default config but `[replay] enabled`) for 20 s with
   replay off, then 30 s with replay on (after 6 s of warm-up): process CPU time over wall time (psutil), RSS.

Each CPU figure is printed with the load average of the moment: other work on the machine does not change a
process's CPU time much, but it does change wall times (the encode).

    python bench/bench_replay.py [--seconds 40] [--app-seconds 30]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

if TYPE_CHECKING:
    from capture.replay import RecorderStats, ReplayClip

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


def load() -> str:
    return f"load {os.getloadavg()[0]:.2f}"


def record(seconds: float) -> tuple[ReplayClip, RecorderStats, float, float]:
    """Run the default recorder for `seconds` (after 2 s of warm-up): (clip, stats, thread CPU %, ms per frame)."""
    from capture.replay import ReplayRecorder, ReplaySettings

    recorder = ReplayRecorder(ReplaySettings(), display=os.environ["DISPLAY"])
    recorder.start()
    time.sleep(2)  # first frames, imports (numpy, mss) out of the way
    start_stats = recorder.stats()
    started = time.monotonic()
    time.sleep(seconds)
    elapsed = time.monotonic() - started
    stats = recorder.stats()
    clip = recorder.snapshot()
    recorder.stop()
    cpu = stats.cpu_seconds - start_stats.cpu_seconds
    return clip, stats, 100 * cpu / elapsed, 1000 * cpu / max(1, stats.grabs - start_stats.grabs)


def bench_recorder(seconds: float) -> ReplayClip:
    import zlib

    import psutil

    from capture import replay

    own = psutil.Process()
    idle_cpu, idle_rss = cpu_and_rss(own.pid, 10)
    print(f"bench process idle: {idle_cpu:.2f}% of one core, RSS {idle_rss:.0f} MB ({load()})")
    clip, stats, thread_cpu, ms_per_frame = record(seconds)
    rss = own.memory_info().rss / 2**20
    print(f"recorder at 2 fps, whole screen changing every frame, {seconds:.0f} s ({load()}):")
    print(f"  recorder thread CPU:   {thread_cpu:.2f}% of one core (goal < 5%; process idle {idle_cpu:.2f}%)")
    print(f"  per frame:             {ms_per_frame:.1f} ms CPU (pointer + grab + diff + deflate with "
          f"{stats.deflate})")
    print(f"  buffer:                {stats.frames} frames, {stats.seconds:.1f} s, compressed "
          f"{stats.buffer_bytes / 2**20:.1f} MB + reference frame {stats.reference_bytes / 2**20:.1f} MB = "
          f"{(stats.buffer_bytes + stats.reference_bytes) / 2**20:.1f} MB (goal < 64 MB)")
    print(f"  process RSS:           {rss:.0f} MB (idle {idle_rss:.0f} MB, +{rss - idle_rss:.0f} MB)")
    if stats.deflate != "zlib":
        # The reference: the same recorder with CPython's zlib (what runs without the `isal` package).
        original = replay.deflate_backend
        replay.deflate_backend = lambda: ("zlib", zlib.compress, zlib.decompress)  # type: ignore[assignment]
        try:
            _, ref_stats, ref_cpu, ref_ms = record(min(seconds, 20.0))
        finally:
            replay.deflate_backend = original
        print(f"  reference, CPython zlib instead ({load()}): {ref_cpu:.2f}% of one core, {ref_ms:.1f} ms per frame, "
              f"{ref_stats.buffer_bytes / max(1, ref_stats.frames) / 2**20:.2f} MB per frame "
              f"(vs {stats.buffer_bytes / max(1, stats.frames) / 2**20:.2f}): "
              f"{stats.deflate} costs {ms_per_frame / ref_ms:.2f}x its CPU")
    return clip


def bench_encode(clip: ReplayClip) -> None:
    from capture.replay_encode import ReplaySelection, encode_selection

    selection = ReplaySelection(clip)
    for limit in (None, 5 * 2**20, 1 * 2**20):
        cpu = time.process_time()
        result = encode_selection(selection, max_bytes=limit)
        cpu = time.process_time() - cpu  # wall time suffers when the machine is busy; CPU time says the work
        label = "no limit" if limit is None else f"limit {limit / 2**20:.0f} MB"
        print(f"encode {result.seconds:.0f} s clip ({label}, {load()}): {result.took_seconds:.2f} s wall (goal < 3 s), "
              f"{cpu:.2f} s CPU, {len(result.data) / 2**20:.2f} MB; {result.note}")


def bench_app(display: str, seconds: float) -> None:
    figures = {}
    for enabled, measured in (("false", 20.0), ("true", seconds)):
        home = Path(tempfile.mkdtemp(prefix="bench-replay-"))
        (home / "config.toml").write_text(f"[replay]\nenabled = {enabled}\n", encoding="utf-8")
        env = dict(os.environ, REPORTER_APP_HOME=str(home), QT_QPA_PLATFORM="xcb", DISPLAY=display)
        proc = subprocess.Popen([sys.executable, "-m", "reporter_app.cli"], env=env, cwd=REPO,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(6)  # started, background services up, first frames taken
            cpu, rss = cpu_and_rss(proc.pid, measured)
            figures[enabled] = cpu
            print(f"app, replay {'on ' if enabled == 'true' else 'off'}: {cpu:.2f}% of one core, RSS {rss:.0f} MB "
                  f"({measured:.0f} s, {load()})")
        finally:
            proc.terminate()
            proc.wait(10)
    print(f"app: replay on costs {figures['true'] - figures['false']:.2f} points of one core over the idle app "
          f"(goal: the app under 5%, aim <= 3.5%)")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--app-seconds", type=float, default=30.0)
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
