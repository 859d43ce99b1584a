"""Watcher cost (issue 7): CPU while a log grows by N lines/s, CPU when idle, and the delay from a
trace being written to its event.

    python bench/bench_watch.py [--rate 1000] [--seconds 60] [--idle-seconds 10] [--polling]

A separate process writes the log (so its CPU is not counted); the watcher runs here, and its CPU
is this process's CPU time. Every second the writer appends a Python trace whose message carries
the wall-clock time it was written; the delay is measured when its event comes out.
Goal: under 5% of one core, under 1 s.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reporter_app.detect.watch import LogWatcher

WRITER = r"""
import sys, time
path, rate, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
start = time.monotonic()
n = 0
next_trace = start + 0.5
with open(path, "a", buffering=1) as fh:
    while time.monotonic() - start < seconds:
        due = int((time.monotonic() - start) * rate)
        while n < due:
            fh.write(f"2026-01-05 09:00:00,123 INFO worker.pool: processed job {n} in {n % 97} ms\n")
            n += 1
        if time.monotonic() >= next_trace:
            fh.write("Traceback (most recent call last):\n  File \"/srv/app/jobs.py\", line 7, in run\n"
                     "    step()\nRuntimeError: written at %.6f\n" % time.time())
            next_trace += 1.0
        time.sleep(0.01)
"""


def measure(path: Path, seconds: float, rate: int, use_inotify: bool | None) -> tuple[float, list[float], bool]:
    watcher = LogWatcher([str(path)], use_inotify=use_inotify)
    delays: list[float] = []
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(rate), str(seconds)]) if rate else None
    cpu0, wall0 = time.process_time(), time.monotonic()
    try:
        while time.monotonic() - wall0 < seconds:
            for watched in watcher.poll():
                last = watched.event.last_line
                if last.startswith("RuntimeError: written at "):
                    delays.append(time.time() - float(last.rsplit(" ", 1)[1]))
            watcher.wait(watcher.next_timeout())
    finally:
        if writer is not None:
            writer.wait()
        inotify = watcher.uses_inotify
        watcher.close()
    cpu = (time.process_time() - cpu0) / (time.monotonic() - wall0)
    return cpu, delays, inotify


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=int, default=1000, help="lines per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    parser.add_argument("--polling", action="store_true", help="poll instead of inotify")
    args = parser.parse_args(argv)
    use_inotify = False if args.polling else None
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "app.log"
        log.write_text("")
        idle_cpu, _, inotify = measure(log, args.idle_seconds, 0, use_inotify)
        busy_cpu, delays, _ = measure(log, args.seconds, args.rate, use_inotify)
    mode = "inotify" if inotify else "polling"
    print(f"watcher ({mode}), one file")
    print(f"  idle for {args.idle_seconds:g} s:           CPU {idle_cpu * 100:.2f}% of one core")
    print(f"  {args.rate} lines/s for {args.seconds:g} s:  CPU {busy_cpu * 100:.2f}% of one core (goal < 5%)")
    if delays:
        delays.sort()
        print(f"  trace written -> event: median {delays[len(delays) // 2] * 1000:.0f} ms, "
              f"max {delays[-1] * 1000:.0f} ms over {len(delays)} traces (goal < 1 s)")
    else:
        print("  no trace events seen")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
