"""The crash loop: processes that queue and file reports against the real Redmine, SIGKILLed at random moments.

Each run is a fresh Python process (as a CLI `report` or a tray app start would be) that writes REPORTS_PER_RUN
reports and sends the outbox; the parent kills it with SIGKILL somewhere in its life: during start-up, while a
bundle is written, between "issue created" and "row marked filed", ... After all runs, one clean run sends what is
left. Then each report that reached disk must be one Redmine issue, and the outbox must agree with Redmine.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reporter_app.bundle import iter_bundle_dirs, read_bundle
from tests.integration.reliability.harness import Row, app_env, load_context, tally, write_config

REPORTS_PER_RUN = 2
RUNNER = """
import sys
from reporter_app.app import AppContext, Draft
from reporter_app.collect import Evidence, LogEvidence

run, count = sys.argv[1], int(sys.argv[2])
ctx = AppContext.load()
for n in range(count):
    text = "".join(f"crash run {run} line {i}\\n" for i in range(20))
    ctx.submit(Draft(title=f"crash run {run} report {n}"), Evidence(logs=[LogEvidence("app", text, 20)]))
ctx.send_pending()
print("done", flush=True)
"""


@dataclass(frozen=True)
class CrashLoopResult:
    row: Row
    runs: int
    killed: int
    outbox_states: Counter[str]
    problems: list[str]  # inconsistencies between the outbox, the bundles and Redmine


def _run(home: Path, env: dict[str, str], run: int, kill_after: float | None) -> tuple[bool, float]:
    """(was killed, seconds it lived)."""
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-c", RUNNER, str(run), str(REPORTS_PER_RUN)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        proc.wait(timeout=kill_after if kill_after is not None else 120)
        return False, time.monotonic() - started
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        return True, time.monotonic() - started


def crash_loop(home: Path, url: str, project: str, token: str, runs: int, seed: int,
               issues_in_redmine: Callable[[], dict[str, list[int]]]) -> CrashLoopResult:
    write_config(home, url, project)
    env = app_env(home, token)
    rng = random.Random(seed)
    # One undisturbed run measures a whole life, so the kills spread over all of it (start-up included).
    _killed, life = _run(home, env, -1, None)
    killed = 0
    for run in range(runs):
        was_killed, _ = _run(home, env, run, rng.uniform(0.0, life * 1.1))
        killed += was_killed
    # The next start of a worker: sends whatever the killed runs left behind.
    subprocess.run([sys.executable, "-m", "reporter_app.cli", "outbox", "retry"], env=env, check=True,
                   capture_output=True, timeout=300)

    keys = {}
    for path in iter_bundle_dirs(home / "data" / "reports"):
        bundle = read_bundle(path)
        keys[bundle.report.idempotency_key] = bundle
    issues = issues_in_redmine()
    row = tally("crash loop (SIGKILL)", keys, {k: len(v) for k, v in issues.items()})

    ctx = load_context(home, token)
    entries = ctx.outbox.entries()
    ctx.outbox.close()
    problems = []
    by_key = {e.idempotency_key: e for e in entries}
    if len(entries) != len(keys):
        problems.append(f"{len(entries)} outbox rows for {len(keys)} bundles on disk")
    for key, bundle in keys.items():
        entry = by_key.get(key)
        if entry is None:
            problems.append(f"bundle {bundle.path.name} has no outbox row")
            continue
        if entry.state != "filed":
            problems.append(f"{entry.id} is {entry.state}: {entry.last_error}")
        elif [f"#{i}" for i in issues.get(key, [])] != [entry.ticket_key]:
            problems.append(f"{entry.id} says {entry.ticket_key}, Redmine has {issues.get(key)}")
        if not bundle.reported_to():
            problems.append(f"bundle {bundle.path.name} does not record where it was filed")
    return CrashLoopResult(row, runs, killed, Counter(e.state.value for e in entries), problems)


def summary(result: CrashLoopResult) -> str:
    return json.dumps({"runs": result.runs, "killed": result.killed, "states": result.outbox_states,
                       "problems": result.problems[:10]})
