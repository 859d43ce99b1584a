"""Screenshot + system snapshot (the synchronous part of a capture) vs a bare mss grab of the same monitor.

Goal: median at most 2x the bare grab, and under 15 ms. Starts its own 1920x1080 Xvfb when DISPLAY is unset.
Run: python bench/bench_capture.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

RUNS = 50


def start_xvfb() -> subprocess.Popen[bytes]:
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-screen", "0", "1920x1080x24", "-nolisten", "tcp", "-noreset", "-displayfd", str(write_fd)],
        pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as pipe:
        number = pipe.readline().decode().strip()
    os.environ["DISPLAY"] = f":{number}"
    os.environ["XDG_SESSION_TYPE"] = "x11"
    os.environ.pop("WAYLAND_DISPLAY", None)
    return proc


def stats(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.95) - 1] * 1000


def main() -> int:
    xvfb = start_xvfb() if not os.environ.get("DISPLAY") else None
    try:
        import mss

        from capture.screenshot import grab
        from capture.system import collect_system, prime_cpu_percent

        prime_cpu_percent()
        data_dir = Path(tempfile.gettempdir())
        allow = ["LANG", "LC_*", "PATH", "DISPLAY"]
        # Warm up both paths once (imports, connections), as the running app would be.
        shot = grab()
        collect_system(data_dir, allow)
        with mss.MSS() as sct:
            monitor = sct.monitors[shot.monitor_index]
            sct.grab(monitor)
            bare, ours, shot_only, system_only = [], [], [], []
            for _ in range(RUNS):
                t0 = time.perf_counter()
                sct.grab(monitor)
                t1 = time.perf_counter()
                grab()
                t2 = time.perf_counter()
                collect_system(data_dir, allow)
                t3 = time.perf_counter()
                bare.append(t1 - t0)
                ours.append(t3 - t1)
                shot_only.append(t2 - t1)
                system_only.append(t3 - t2)
        bare_med, bare_p95 = stats(bare)
        med, p95 = stats(ours)
        print(f"capture (screenshot + system) at {shot.width}x{shot.height}, {RUNS} runs, DISPLAY={os.environ['DISPLAY']}")
        print(f"  bare mss grab        median {bare_med:6.2f} ms   p95 {bare_p95:6.2f} ms")
        print(f"  screenshot only      median {stats(shot_only)[0]:6.2f} ms   p95 {stats(shot_only)[1]:6.2f} ms")
        print(f"  system only          median {stats(system_only)[0]:6.2f} ms   p95 {stats(system_only)[1]:6.2f} ms")
        print(f"  screenshot + system  median {med:6.2f} ms   p95 {p95:6.2f} ms")
        ratio = med / bare_med
        ok = ratio <= 2.0 and med < 15.0
        print(f"  ratio (median) {ratio:.2f}x  goal <= 2x and < 15 ms: {'PASS' if ok else 'FAIL'}")
        return 0 if ok else 1
    finally:
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait()


if __name__ == "__main__":
    sys.exit(main())
