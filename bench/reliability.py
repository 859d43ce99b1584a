"""Proof of reliability (issue 9): fault injection, refusals, disk trouble, a SIGKILL crash loop, fuzzing and the
GUI stall, all against a real Redmine; prints one table: fault, reports sent, filed once, duplicates, lost, longest
GUI stall.

Run:  python bench/reliability.py          the whole thing: 100 crash runs, 300 fuzz examples per target
      python bench/reliability.py --ci     CI sizes: 12 crash runs, 60 fuzz examples (a few minutes on 2 cores)

It runs the reliability tests themselves (tests/integration/reliability, tests/unit/fuzz,
tests/system/test_gui_responsive.py), which append their rows to a results file. Uses the Redmine named by
REDMINE_ENV_FILE / REDMINE_URL, else starts its own with scripts/redmine-up (and stops it afterwards).
Exit status 0 only when every test passed and every row is "filed once" for every report.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TESTS = ["tests/integration/reliability", "tests/unit/fuzz"]
GUI_TESTS = ["tests/system/test_gui_responsive.py"]  # its own process: the system tier's QApplication is on Xvfb
COLUMNS = ("fault", "sent", "filed once", "duplicates", "lost", "longest GUI stall")


def _pytest(paths: list[str], env: dict[str, str]) -> int:
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *paths]
    print("$", " ".join(command[1:]), flush=True)
    return subprocess.run(command, cwd=REPO, env=env).returncode


def _start_redmine(workdir: Path) -> Path:
    print(f"starting a Redmine of our own in {workdir} (scripts/redmine-up) ...", flush=True)
    subprocess.run([str(REPO / "scripts" / "redmine-up"), "--dir", str(workdir)], check=True)
    return workdir / "redmine.env"


def _table(rows: list[dict[str, object]]) -> str:
    lines = [[str(r["fault"]), str(r["sent"]), str(r["filed_once"]), str(r["duplicates"]), str(r["lost"]),
              f"{r['gui_stall_ms']:.1f} ms" if r.get("gui_stall_ms") is not None else "-"] for r in rows]
    widths = [max(len(c), *(len(line[i]) for line in lines)) for i, c in enumerate(COLUMNS)]
    out = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(COLUMNS, widths)))]
    out.append("  ".join("-" * w for w in widths))
    for line in lines:
        out.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths))))
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ci", action="store_true", help="CI sizes (smaller crash loop and fuzz runs)")
    parser.add_argument("--crash-runs", type=int, help="SIGKILL runs (default 100, --ci 12)")
    args = parser.parse_args()

    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="reporter-app-reliability-"))
    results = work / "rows.jsonl"
    env = dict(os.environ)
    env.update(RELIABILITY_RESULTS=str(results),
               RELIABILITY_CRASH_RUNS=str(args.crash_runs or (12 if args.ci else 100)),
               RELIABILITY_FUZZ_EXAMPLES="60" if args.ci else "300")
    own_redmine = not (env.get("REDMINE_ENV_FILE") or env.get("REDMINE_URL"))
    if own_redmine:
        env["REDMINE_ENV_FILE"] = str(_start_redmine(work / "redmine"))
    try:
        failed = _pytest(TESTS, env) != 0
        failed |= _pytest(GUI_TESTS, env) != 0
    finally:
        if own_redmine:
            subprocess.run([str(REPO / "scripts" / "redmine-down"), "--dir", str(work / "redmine")], check=False,
                           capture_output=True)

    rows = [json.loads(line) for line in results.read_text().splitlines()] if results.exists() else []
    print()
    print(_table(rows))
    imperfect = [r for r in rows if r["filed_once"] != r["sent"] or r["duplicates"] or r["lost"]]
    print(f"\n{len(rows)} scenarios, {sum(int(r['sent']) for r in rows)} reports, "
          f"crash runs {env['RELIABILITY_CRASH_RUNS']}, fuzz examples {env['RELIABILITY_FUZZ_EXAMPLES']} per target; "
          f"{'FAILED' if failed or imperfect else 'all passed'} in {time.monotonic() - started:.0f} s")
    return 1 if failed or imperfect or not rows else 0


if __name__ == "__main__":
    sys.exit(main())
