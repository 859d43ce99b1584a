"""Every capture benchmark and the scrubber evaluation, in one command: python bench/bench_capture_all.py"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPTS = ["bench_capture.py", "bench_tail.py", "bench_scrub.py", "eval_scrub.py"]


def main() -> int:
    here = Path(__file__).resolve().parent
    failed = []
    for script in SCRIPTS:
        print(f"== {script}", flush=True)
        if subprocess.run([sys.executable, str(here / script)], check=False).returncode != 0:
            failed.append(script)
        print(flush=True)
    print("all goals met" if not failed else f"goals missed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
