"""The journal source's spec and journalctl command line: one parser for the report's tail and the watcher.

The real journal (files written by systemd-journal-remote) is in tests/integration/capture/test_logs_journal_file.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from capture import logs
from capture.logs import JournalMatch, LogSourceSpec, LogSourceUnavailable, journal_command, parse_journal_match
from reporter_app.detect.journal import JournalSource, follow_command


@pytest.mark.parametrize(("text", "match"), [
    ("shop.service", JournalMatch("-u", "shop.service")),
    ("unit:shop.service", JournalMatch("-u", "shop.service")),
    ("unit: shop.service ", JournalMatch("-u", "shop.service")),
    ("identifier:shop", JournalMatch("-t", "shop")),
    ("tag:shop", JournalMatch("-t", "shop")),
    ("user@1000.service", JournalMatch("-u", "user@1000.service")),
])
def test_parse_journal_match(text: str, match: JournalMatch) -> None:
    assert parse_journal_match(text) == match
    assert match.args == [match.flag, match.name]


@pytest.mark.parametrize("text", ["", "  ", "unit:", "identifier:  ", "pid:12", "_SYSTEMD_UNIT:shop"])
def test_a_bad_match_is_a_clear_error_for_the_tail_and_the_follower(text: str) -> None:
    message = f"unit:NAME, identifier:NAME or a unit name, not {text!r}"
    with pytest.raises(ValueError) as tail:
        journal_command(LogSourceSpec("j", journal=text))
    with pytest.raises(ValueError) as follower:
        JournalSource(text)
    assert message in str(tail.value) and str(tail.value) == str(follower.value)


def test_a_journal_file_is_read_with_file(tmp_path: Path) -> None:
    journal = tmp_path / "system.journal"
    journal.write_bytes(b"")
    cmd = journal_command(LogSourceSpec("j", journal="identifier:shop", journal_file=str(journal), lines=20))
    assert cmd == ["journalctl", "--no-pager", "-q", "-o", "json", "--all", "-t", "shop", f"--file={journal}",
                   "-n", "20"]


def test_a_directory_of_journals_is_read_with_directory(tmp_path: Path) -> None:
    mounted = tmp_path / "container" / "var" / "log" / "journal"
    mounted.mkdir(parents=True)
    cmd = journal_command(LogSourceSpec("j", journal="db.service", journal_file=str(mounted), minutes=5))
    assert cmd[6:] == ["-u", "db.service", f"--directory={mounted}", "-n", "500", "--since", "-5min"]


def test_home_is_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "app.journal").write_bytes(b"")
    spec = LogSourceSpec("j", journal="identifier:shop", journal_file="~/c/app.journal")
    assert f"--file={tmp_path}/c/app.journal" in journal_command(spec)
    spec = LogSourceSpec("j", journal="identifier:shop", journal_file="~/c")
    assert f"--directory={tmp_path}/c" in journal_command(spec)


def test_a_glob_of_journal_files_is_passed_to_journalctl(tmp_path: Path) -> None:
    for name in ("system.journal", "system@0001.journal~"):
        (tmp_path / name).write_bytes(b"")
    pattern = str(tmp_path / "*.journal*")
    assert f"--file={pattern}" in journal_command(LogSourceSpec("j", journal="x", journal_file=pattern))


def test_a_missing_journal_file_is_unavailable_and_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "gone.journal"
    with pytest.raises(LogSourceUnavailable, match=f"^journal_file {missing} does not exist$"):
        journal_command(LogSourceSpec("j", journal="identifier:shop", journal_file=str(missing)))
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(LogSourceUnavailable, match=rf"^journal_file ~/nope\.journal \({tmp_path}/nope\.journal\) "):
        journal_command(LogSourceSpec("j", journal="identifier:shop", journal_file="~/nope.journal"))
    with pytest.raises(LogSourceUnavailable, match="does not exist"):
        journal_command(LogSourceSpec("j", journal="identifier:shop", journal_file=str(tmp_path / "*.journal")))


def test_a_bad_match_is_reported_before_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unit:NAME"):
        journal_command(LogSourceSpec("j", journal="pid:1", journal_file=str(tmp_path / "gone.journal")))


def test_the_follower_does_not_require_the_file_yet(tmp_path: Path) -> None:
    # A container's journal mounted later: journalctl fails until it is there and the follower retries.
    assert logs.journal_location_args(str(tmp_path / "later.journal")) == [f"--file={tmp_path}/later.journal"]
    assert logs.journal_location_args(f"{tmp_path}/later/") == [f"--directory={tmp_path}/later/"]
    assert logs.journal_location_args("") == []


@pytest.mark.parametrize("match", ["shop.service", "unit:shop.service", "identifier:shop", "tag:shop"])
@pytest.mark.parametrize("where", ["", "file", "dir"])
def test_tail_and_follower_select_the_same_entries(tmp_path: Path, match: str, where: str) -> None:
    journal_file = ""
    if where == "file":
        journal_file = str(tmp_path / "shop.journal")
        Path(journal_file).write_bytes(b"")
    elif where == "dir":
        journal_file = str(tmp_path)
    selection = logs.journal_selection(match, journal_file)
    tail = journal_command(LogSourceSpec("j", journal=match, journal_file=journal_file))
    follow = follow_command(JournalSource(match, journal_file), since=1.5, cursor=None)
    assert tail[6:6 + len(selection)] == selection
    assert follow[-1 - len(selection):-1] == selection and follow[-1] == "--since=@1.500000"
    assert "--follow" not in tail and not any(a.startswith(("--since=", "--after-cursor")) for a in tail)


def test_journal_lines_split_multiline_messages_and_survive_odd_fields() -> None:
    out = (b'{"__REALTIME_TIMESTAMP":"1714564800000000","SYSLOG_IDENTIFIER":"shop","_PID":"7",'
           b'"MESSAGE":"Traceback (most recent call last):\\n  File \\"a.py\\", line 1\\r\\nKeyError: 1\\n"}\n'
           b'{"__REALTIME_TIMESTAMP":"1714564801000000","SYSLOG_IDENTIFIER":"shop","MESSAGE":null}\n'
           b'{"__REALTIME_TIMESTAMP":"1714564802000000","_COMM":"shop","MESSAGE":["one",[116,119,111,255]]}\n'
           b'[1, 2]\n')
    assert logs._journal_lines(out) == [
        b"2024-05-01T12:00:00.000+00:00 shop[7]: Traceback (most recent call last):",
        b'  File "a.py", line 1',
        b"KeyError: 1",
        b"2024-05-01T12:00:01.000+00:00 shop: ",
        b"2024-05-01T12:00:02.000+00:00 shop: one",
        "two\ufffd".encode(),
    ]
