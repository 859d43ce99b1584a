"""A journal source with ``journal_file`` on real journal files (written by systemd-journal-remote, read by the
real journalctl): the report's log tail reads that journal, not the system's, and scrubs it like any log.

Linux only; the tools missing skip the test by hand and fail it under scripts/test-all (tests/support/env.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from capture.logs import LogSourceSpec, LogSourceUnavailable, read_recent
from tests.support.journal import Journal, journal_remote_path

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the systemd journal exists only on Linux")

SECRET = "ghp_" + "Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3i2"
TRACEBACK = ("Traceback (most recent call last):\n"
             '  File "/srv/shop/app.py", line 12, in checkout\n'
             "KeyError: 'currency'\n")
MACHINE_ID = "0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="module")
def journal_remote() -> str:
    return journal_remote_path()


def test_the_tail_reads_the_journal_file_and_only_the_source_s_entries(journal_remote: str, tmp_path: Path) -> None:
    journal = Journal(journal_remote, tmp_path / "shop.journal")
    journal.append("GET /cart 200", "ERROR checkout failed", unit="shop.service")
    journal.append("noise from elsewhere", identifier="other", unit="other.service")
    journal.append(TRACEBACK, unit="shop.service")
    journal.append("GET /health 200", unit="shop.service")

    excerpt = read_recent(LogSourceSpec("shop", journal="unit:shop.service", journal_file=str(journal.path),
                                        lines=4))
    # The last 4 lines: the multi-line MESSAGE counts as its lines, the first one stamped like a log line.
    assert [line.split(": ", 1)[-1] if " shop[4242]: " in line else line for line in excerpt.text.splitlines()] == [
        "Traceback (most recent call last):", '  File "/srv/shop/app.py", line 12, in checkout', "KeyError: 'currency'",
        "GET /health 200"]
    assert excerpt.text.splitlines()[0].endswith(" shop[4242]: Traceback (most recent call last):")
    assert excerpt.line_count == 4 and excerpt.sources == [f"journal:unit:shop.service in {journal.path}"]

    by_identifier = read_recent(LogSourceSpec("shop", journal="identifier:shop", journal_file=str(journal.path)))
    assert "ERROR checkout failed" in by_identifier.text and "noise" not in by_identifier.text
    assert by_identifier.line_count == 6


def test_a_directory_of_journals_is_read_whole(journal_remote: str, tmp_path: Path) -> None:
    # A container's /var/log/journal: journal files in a machine-id directory below it.
    mounted = tmp_path / "var-log-journal"
    (mounted / MACHINE_ID).mkdir(parents=True)
    Journal(journal_remote, mounted / MACHINE_ID / "system.journal").append("first", unit="db.service")
    Journal(journal_remote, mounted / MACHINE_ID / "user-1000.journal").append("second", unit="db.service")
    Journal(journal_remote, mounted / MACHINE_ID / "user-1001.journal").append("other", unit="web.service")
    excerpt = read_recent(LogSourceSpec("db", journal="db.service", journal_file=str(mounted)))
    assert [line.rsplit(": ", 1)[1] for line in excerpt.text.splitlines()] == ["first", "second"]



def test_a_missing_journal_file_is_unavailable_not_the_system_journal(tmp_path: Path) -> None:
    with pytest.raises(LogSourceUnavailable, match=f"journal_file {tmp_path}/gone does not exist"):
        read_recent(LogSourceSpec("shop", journal="identifier:shop", journal_file=str(tmp_path / "gone")))


def test_cli_report_attaches_the_journal_file_s_messages_scrubbed(journal_remote: str, tmp_path: Path) -> None:
    user_home = tmp_path / "user"
    (user_home / "container").mkdir(parents=True)
    journal = Journal(journal_remote, user_home / "container" / "shop.journal")
    journal.append("INFO start", f"ERROR checkout failed token={SECRET}", identifier="shop")
    journal.append(TRACEBACK, identifier="shop")
    journal.append("not ours", identifier="other")
    home = tmp_path / "reporter-home"
    home.mkdir()
    (home / "config.toml").write_text(
        '[[logs]]\nname = "shop"\njournal = "identifier:shop"\njournal_file = "~/container/shop.journal"\n\n'
        '[[logs]]\nname = "db"\njournal = "identifier:db"\njournal_file = "~/container/gone/"\n', encoding="utf-8")
    env = {**os.environ, "REPORTER_APP_HOME": str(home), "HOME": str(user_home),
           "REPORTER_APP_SYSTEM_CONFIG": str(tmp_path / "no-system-config.toml")}
    env.pop("DISPLAY", None)
    result = subprocess.run([sys.executable, "-m", "reporter_app.cli", "report", "--title", "Checkout broken",
                             "--no-screenshot"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "LOCAL-1"

    [bundle] = [p for p in (home / "data" / "reports").iterdir() if not p.name.startswith(".")]
    report = json.loads((bundle / "report.json").read_text(encoding="utf-8"))
    log = (bundle / "logs" / "shop.txt").read_text(encoding="utf-8")
    messages = [line.split(" shop[4242]: ", 1)[-1] for line in log.splitlines()]
    assert messages == ["INFO start", "ERROR checkout failed token=[REDACTED:github-token]",
                        "Traceback (most recent call last):", '  File "/srv/shop/app.py", line 12, in checkout',
                        "KeyError: 'currency'"]
    assert report["redactions"]["github-token"] == 1
    # The missing journal is recorded like any collector failure, naming the path; the report still went out.
    assert report["collector_errors"]["logs.db"] == (
        f"LogSourceUnavailable: journal_file ~/container/gone/ ({user_home}/container/gone/) does not exist")
    assert not (bundle / "logs" / "db.txt").exists()
    assert not any(SECRET in p.read_text(errors="replace") for p in home.rglob("*") if p.is_file()
                   and p.suffix in (".json", ".txt"))
