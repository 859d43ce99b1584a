"""Last 1,000 lines of a 1 MiB file vs a 1 GiB file: the seek-from-end tail must not care about file size.

Goal: the 1 GiB read within 1.5x the 1 MiB read, and under 10 ms. Files live in a temp dir, deleted after.
Run: python bench/bench_tail.py
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from capture.logs import tail_lines  # noqa: E402

LINES = 1000
RUNS = 30
LINE = b"2024-05-01 12:00:00,000 INFO worker-3 request handled in 12 ms path=/api/v1/items status=200\n"


def make(path: Path, size: int) -> None:
    """Write ``size`` bytes of log lines fast: one 1 MiB block written repeatedly."""
    block = (LINE * (1024 * 1024 // len(LINE) + 1))[: 1024 * 1024]
    block = block[: block.rindex(b"\n") + 1]
    with open(path, "wb") as fh:
        written = 0
        while written + len(block) <= size:
            fh.write(block)
            written += len(block)


def timed(path: Path) -> float:
    samples = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        lines = tail_lines(path, LINES, 16 * 1024 * 1024)
        samples.append(time.perf_counter() - t0)
        assert len(lines) == LINES
    return statistics.median(samples) * 1000


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        small, big = Path(tmp) / "small.log", Path(tmp) / "big.log"
        make(small, 1024 * 1024)
        make(big, 1024 * 1024 * 1024)
        print(f"tail of {LINES} lines, median of {RUNS} (files {os.path.getsize(small):,} and {os.path.getsize(big):,} bytes)")
        timed(small), timed(big)  # warm the page cache for both, so disk speed isn't measured
        t_small, t_big = timed(small), timed(big)
    ratio = t_big / t_small
    ok = ratio <= 1.5 and t_big < 10
    print(f"  1 MiB  {t_small:6.3f} ms")
    print(f"  1 GiB  {t_big:6.3f} ms")
    print(f"  ratio {ratio:.2f}x  goal <= 1.5x and < 10 ms: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
