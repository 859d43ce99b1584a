"""Shared pieces of the reliability suite: an app home pointed at a tracker URL, queued reports, a send loop,
and the one question that matters, asked of Redmine itself: was every report filed exactly once?

Used by the tests in this folder and by ``bench/reliability.py`` (which prints the rows they record).
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import requests

from reporter_app.app import AppContext, Draft
from reporter_app.collect import Evidence, LogEvidence
from reporter_app.outbox import OutboxState

RESULTS_ENV = "RELIABILITY_RESULTS"  # a JSON-lines file the bench command reads the table from
REPORTS_ENV = "RELIABILITY_REPORTS"  # reports per fault (the brief: 20)


def reports_per_fault() -> int:
    return int(os.environ.get(REPORTS_ENV, "20"))


@dataclass(frozen=True)
class Row:
    """One line of the bench table."""

    fault: str
    sent: int
    filed_once: int
    duplicates: int
    lost: int
    gui_stall_ms: float | None = None

    @property
    def perfect(self) -> bool:
        return self.filed_once == self.sent and self.duplicates == 0 and self.lost == 0


def record(row: Row) -> None:
    """Append the row for the bench table (only when the bench command asked for it)."""
    path = os.environ.get(RESULTS_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(asdict(row)) + "\n")


def write_config(home: Path, url: str, project: str, *, timeout: float = 5.0, extra: str = "") -> None:
    """A user config for Redmine at `url`; backoff short so a real-time loop sees retries within seconds."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(
        '[reporter]\nname = "Rel Tester"\nemail = "rel@example.com"\n\n'
        f'[tracker]\nbackend = "redmine"\nurl = "{url}"\nproject = "{project}"\ntimeout_seconds = {timeout}\n'
        f"{extra}\n"
        "[outbox]\nbase_backoff_seconds = 0.2\nmax_backoff_seconds = 2\n",
        encoding="utf-8",
    )


def app_env(home: Path, token: str | None) -> dict[str, str]:
    """The environment of a test app: its own home, no system config, the key as automation passes it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPORTER_APP_")}
    env["REPORTER_APP_HOME"] = str(home)
    env["REPORTER_APP_SYSTEM_CONFIG"] = str(home / "no-system-config.toml")
    if token:
        env["REPORTER_APP_TRACKER_TOKEN"] = token
    env.pop("DISPLAY", None)
    return env


def load_context(home: Path, token: str | None) -> AppContext:
    return AppContext.load(home=str(home), env=app_env(home, token))


def evidence(n: int) -> Evidence:
    """A small log excerpt: every report uploads one attachment, so uploads meet the faults too."""
    text = "".join(f"2026-01-05 09:00:{i % 60:02d} INFO report {n} step {i}\n" for i in range(20))
    return Evidence(logs=[LogEvidence(name="app", text=text, line_count=20)])


def queue_reports(ctx: AppContext, count: int, label: str) -> list[str]:
    """Queue `count` reports (bundle + outbox row, as the form's submit does); their idempotency keys."""
    keys = []
    for n in range(count):
        bundle, _entry = ctx.submit(Draft(title=f"{label} report {n}", description=f"{label} #{n}"), evidence(n))
        keys.append(bundle.report.idempotency_key)
    return keys


def drive(ctx: AppContext, deadline_seconds: float, *, tick: float = 0.1,
          after_round: Callable[[AppContext], None] | None = None) -> None:
    """The app's outbox worker in real time: send what is due until nothing is pending (or the deadline)."""
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        ctx.send_pending()
        if after_round is not None:
            after_round(ctx)
        waiting = [e for e in ctx.outbox.entries() if e.state in (OutboxState.QUEUED, OutboxState.SENDING,
                                                                   OutboxState.WAITING_RETRY)]
        if not waiting:
            return
        time.sleep(tick)


def redmine_issues_by_key(session: requests.Session, url: str, project: str, field_id: int) -> dict[str, list[int]]:
    """Issue ids per idempotency key (the custom field), over every issue of the project, open or closed."""
    found: dict[str, list[int]] = {}
    offset = 0
    while True:
        params: dict[str, str | int] = {"project_id": project, "status_id": "*", "limit": 100, "offset": offset,
                                        "sort": "id:asc"}
        response = session.get(f"{url}/issues.json", params=params, timeout=30)
        response.raise_for_status()
        data = response.json()
        for issue in data["issues"]:
            for field in issue.get("custom_fields") or []:
                if field.get("id") == field_id and field.get("value"):
                    found.setdefault(str(field["value"]), []).append(int(issue["id"]))
        offset += len(data["issues"])
        if not data["issues"] or offset >= int(data.get("total_count", 0)):
            return found


def redmine_keys(session: requests.Session, url: str, project: str, field_id: int) -> Counter[str]:
    """How many issues carry each idempotency key."""
    return Counter({k: len(v) for k, v in redmine_issues_by_key(session, url, project, field_id).items()})


def tally(fault: str, keys: Iterable[str], counts: Mapping[str, int], gui_stall_ms: float | None = None) -> Row:
    keys = list(keys)
    once = sum(1 for k in keys if counts.get(k, 0) == 1)
    duplicates = sum(counts.get(k, 0) - 1 for k in keys if counts.get(k, 0) > 1)
    # An issue whose key we never queued would be a report filed from nowhere: count it as a duplicate too.
    duplicates += sum(v for k, v in counts.items() if k not in set(keys))
    lost = sum(1 for k in keys if counts.get(k, 0) == 0)
    return Row(fault, len(keys), once, duplicates, lost, gui_stall_ms)


def outbox_summary(ctx: AppContext) -> dict[str, Any]:
    entries = ctx.outbox.entries()
    return {"states": Counter(e.state.value for e in entries), "errors": sorted({e.last_error for e in entries
                                                                                 if e.last_error})}
