"""`reporter-app status` and `reporter-app stats` as a user runs them, showing real data from the real Redmine.

A report is filed through the CLI; an engineer then moves the ticket and answers through Redmine's REST API, as
they would in the browser; the reporter's next `status` and `stats` show it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from reporter_app.credentials import TOKEN_ENV

REPO = Path(__file__).parents[3]


def cli(home: Path, token: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPORTER_APP_")}
    env.update({TOKEN_ENV: token, "REPORTER_APP_SYSTEM_CONFIG": str(home / "no-system.toml")})
    env.pop("DISPLAY", None)
    result = subprocess.run([sys.executable, "-m", "reporter_app.cli", "--home", str(home), *args],
                            capture_output=True, text=True, env=env, timeout=120, cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_status_and_stats_show_what_the_engineer_did_in_redmine(redmine: Any, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(
        f'[reporter]\nname = "Ada Tester"\n\n[tracker]\nbackend = "redmine"\nurl = "{redmine.url}"\n'
        f'project = "{redmine.project}"\n', encoding="utf-8")
    token = redmine.reporter_api_key or redmine.api_key

    key = cli(home, token, "report", "--title", "Checkout button does nothing", "--impact", "blocker",
              "--no-screenshot").stdout.strip()
    assert key.startswith("#"), key
    issue_id = int(key.lstrip("#"))
    before = json.loads(cli(home, token, "status", "--json").stdout)
    assert [(r["ticket"], r["status"], r["comments"]) for r in before] == [(key, "New", 0)]
    assert before[0]["sla"]["first_response"]["state"] == "due"

    # The engineer, in Redmine: takes it, answers.
    answer = redmine.request("PUT", f"/issues/{issue_id}.json", json={"issue": {
        "status_id": redmine.status_id("In Progress"), "notes": "Reproduced; fix under way."}})
    assert answer.status_code == 204, answer.text

    after = json.loads(cli(home, token, "status", "--json").stdout)
    [row] = after
    assert (row["status"], row["state"], row["comments"]) == ("In Progress", "in_progress", 1)
    assert row["sla"]["first_response"]["state"] == "met"
    text = cli(home, token, "status", key).stdout
    assert "In Progress" in text and "Reproduced; fix under way." in text

    stats = json.loads(cli(home, token, "stats", "--json").stdout)
    by_priority = {p["priority"]: p for p in stats["priorities"]}
    filed = by_priority[row["sla"]["priority"]]  # "P2"; row["priority"] is Redmine's own word ("Urgent")
    assert filed["tickets"] == 1
    assert filed["first_response"]["count"] == 1
    assert filed["first_response_sla"] == {"hits": 1, "total": 1, "rate": 1.0}
