"""SIGKILL at random moments while reports are queued and filed against the real Redmine: none lost, none doubled.

CI runs a sample (RELIABILITY_CRASH_RUNS, default 12); `python bench/reliability.py` runs 100.
"""

from __future__ import annotations

import os

from tests.integration.reliability.crashloop import crash_loop, summary
from tests.integration.reliability.harness import record, redmine_issues_by_key
from tests.support.redmine import Redmine


def test_random_sigkills_file_every_report_exactly_once(redmine: Redmine, key_field: int, tmp_path) -> None:
    runs = int(os.environ.get("RELIABILITY_CRASH_RUNS", "12"))
    seed = int(os.environ.get("RELIABILITY_SEED", "20261126"))
    result = crash_loop(tmp_path / "home", redmine.url, redmine.project, str(redmine.reporter_api_key), runs, seed,
                        lambda: redmine_issues_by_key(redmine.session, redmine.url, redmine.project, key_field))
    record(result.row)
    assert result.killed > 0, summary(result)  # the loop really killed processes
    assert result.row.sent > 0 and result.row.perfect, (result.row, summary(result))
    assert not result.problems, summary(result)
