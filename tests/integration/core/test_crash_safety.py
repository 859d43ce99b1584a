"""A sending process killed with SIGKILL at any point: after a restart, each report is filed once.

Real processes, real SQLite, real bundles, the real local tracker; the kill is a real SIGKILL.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

KILLER = """
import os, signal, sys
from reporter_app.app import AppContext

point = sys.argv[1]
ctx = AppContext.load()

def crash(name, entry):
    if name == point:
        os.kill(os.getpid(), signal.SIGKILL)

ctx.send_pending(crash_point=crash)
print("finished without reaching", point)
"""


def cli(home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "REPORTER_APP_HOME": str(home)}
    env.pop("DISPLAY", None)
    return subprocess.run([sys.executable, "-m", "reporter_app.cli", *args], env=env, text=True,
                          capture_output=True, check=check, timeout=60)


def tickets(home: Path) -> dict[str, str]:
    """idempotency key -> ticket key, failing on any key filed twice."""
    found: dict[str, str] = {}
    for ticket in sorted((home / "data" / "local-tracker").glob("LOCAL-*/ticket.json")):
        key = json.loads(ticket.read_text())["idempotency_key"]
        assert key not in found, f"{key} filed twice: {found[key]} and {ticket.parent.name}"
        found[key] = ticket.parent.name
    return found


def outbox(home: Path) -> list[dict]:
    return json.loads(cli(home, "outbox", "list", "--json").stdout)


@pytest.mark.parametrize("point", ["before_send", "after_create", "before_mark_filed"])
def test_sigkill_at_each_point_files_each_report_once(tmp_path, point):
    home = tmp_path / "home"
    for n in range(3):
        cli(home, "report", "--title", f"report {n}", "--no-screenshot", "--no-send")
    env = {**os.environ, "REPORTER_APP_HOME": str(home)}
    killed = subprocess.run([sys.executable, "-c", KILLER, point], env=env, capture_output=True, text=True,
                            timeout=60)
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    before = tickets(home)
    assert len(before) == (0 if point == "before_send" else 1)

    cli(home, "outbox", "retry")  # the next start of a worker

    entries = outbox(home)
    filed = tickets(home)
    assert [e["state"] for e in entries] == ["filed"] * 3
    assert {e["ticket"] for e in entries} == set(filed.values())
    assert len(filed) == 3


def test_random_sigkills_of_report_processes_lose_and_duplicate_nothing(tmp_path):
    home = tmp_path / "home"
    cli(home, "outbox", "list")  # create the outbox once, so every run below has real work to die in
    rng = random.Random(int(os.environ.get("CRASH_SEED", "20261126")))
    runs = int(os.environ.get("CRASH_RUNS", "12"))
    env = {**os.environ, "REPORTER_APP_HOME": str(home)}
    env.pop("DISPLAY", None)
    for n in range(runs):
        proc = subprocess.Popen([sys.executable, "-m", "reporter_app.cli", "report", "--title", f"crash run {n}",
                                 "--no-screenshot"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.05, 0.6))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)

    cli(home, "outbox", "retry")

    entries = outbox(home)
    filed = tickets(home)
    bundles = [p for p in (home / "data" / "reports").iterdir() if not p.name.startswith(".")] \
        if (home / "data" / "reports").exists() else []
    # Every report that reached disk is in the outbox, filed exactly once.
    assert len(entries) == len(bundles)
    assert all(e["state"] == "filed" for e in entries), entries
    assert sorted(e["ticket"] for e in entries) == sorted(filed.values())
