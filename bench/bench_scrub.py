"""Scrubber throughput on all loghub logs concatenated, next to a plain re.sub of one pattern over the same text.

Goal: at least 20 MB/s on one core (default rules). Needs ../shared/datasets/loghub.
Run: python bench/bench_scrub.py
"""

from __future__ import annotations

import glob
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from capture.scrub import Scrubber  # noqa: E402

DATASET = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "loghub"
REPEAT = 5


def best_of(fn: object, text: str) -> float:
    best = float("inf")
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        fn(text)  # type: ignore[operator]
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> int:
    files = sorted(glob.glob(str(DATASET / "*" / "*.log")))
    if not files:
        print(f"skipped: no logs under {DATASET}")
        return 0
    text = "\n".join(Path(f).read_text(encoding="utf-8", errors="replace") for f in files)
    mb = len(text.encode("utf-8")) / 1e6
    one = re.compile(r"password=\S+")
    baseline = best_of(lambda t: one.sub("[REDACTED]", t), text)
    print(f"scrub throughput on {len(files)} loghub logs, {mb:.2f} MB, best of {REPEAT}")
    print(f"  plain re.sub(r'password=\\S+')        {mb / baseline:7.1f} MB/s")
    ok = True
    for label, scrubber in (
        ("default rules", Scrubber()),
        ("default + emails + home", Scrubber(emails=True, home="/home/ada")),
        ("default + emails + IPs + home", Scrubber(emails=True, ips=True, home="/home/ada")),
    ):
        took = best_of(scrubber.scrub, text)
        counts = scrubber.scrub(text).counts
        print(f"  {label:36s} {mb / took:7.1f} MB/s  ({baseline / took:.2f}x of plain re.sub)  hits {counts}")
        if label == "default rules":
            ok = mb / took >= 20
    print(f"  goal >= 20 MB/s with default rules: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
