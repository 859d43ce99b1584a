"""Journal entries to lines, the journalctl command line, and waking the watcher (the real journal: integration)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from reporter_app.detect.journal import MAX_MESSAGE_CHARS, JournalSource, follow_command, message_lines
from reporter_app.detect.watch import LogWatcher


@pytest.mark.parametrize(("message", "lines"), [
    ("ERROR db timeout", ["ERROR db timeout"]),
    ("Traceback (most recent call last):\n  File \"a.py\", line 1\nKeyError: 'x'\n",
     ["Traceback (most recent call last):", '  File "a.py", line 1', "KeyError: 'x'"]),
    ("windows line\r\nnext\r\n", ["windows line", "next"]),
    ("", [""]),
    # Not UTF-8: journalctl's JSON gives the bytes as an array of numbers.
    (list(b"ERROR caf\xe9 \xff\nsecond"), ["ERROR caf\ufffd \ufffd", "second"]),
    # MESSAGE set twice in one entry: a list of its values, each may be text or bytes.
    (["first value", list(b"second \xff value")], ["first value", "second \ufffd value"]),
])
def test_message_lines(message: object, lines: list[str]) -> None:
    assert message_lines({"MESSAGE": message, "__CURSOR": "s=1"}) == lines


def test_entries_without_a_message_give_no_line_and_huge_ones_are_cut() -> None:
    assert message_lines({"__CURSOR": "s=1"}) == []
    assert message_lines({"MESSAGE": None}) == []  # a field journalctl left out (too large without --all)
    [line] = message_lines({"MESSAGE": "x" * (MAX_MESSAGE_CHARS + 10)})
    assert len(line) == MAX_MESSAGE_CHARS


def test_follow_command_starts_at_creation_then_resumes_after_the_cursor(tmp_path: Path) -> None:
    journal_file = tmp_path / "system.journal"
    source = JournalSource("identifier:shop", str(journal_file))
    first = follow_command(source, since=1767603600.25, cursor=None)
    assert first[:2] == ["journalctl", "--follow"] and "--output=json" in first and "--all" in first
    assert "-q" not in first  # journalctl's hint about unreadable entries must reach the log
    assert first[-4:] == ["-t", "shop", f"--file={journal_file}", "--since=@1767603600.250000"]
    again = follow_command(source, since=1767603600.25, cursor="s=ab;i=7")
    assert again[-1] == "--after-cursor=s=ab;i=7" and not any(a.startswith("--since") for a in again)


def test_follow_command_matches_and_journal_directories(tmp_path: Path) -> None:
    assert follow_command(JournalSource("shop.service"), since=0, cursor=None)[-3:-1] == ["-u", "shop.service"]
    assert follow_command(JournalSource("unit:shop.service"), since=0, cursor=None)[-3:-1] == ["-u", "shop.service"]
    mounted = follow_command(JournalSource("unit:db.service", str(tmp_path)), since=0, cursor=None)
    assert f"--directory={tmp_path}" in mounted  # a container's /var/log/journal


@pytest.mark.parametrize("match", ["pid:12", "unit:", "identifier:  "])
def test_a_bad_match_is_a_clear_error(match: str) -> None:
    with pytest.raises(ValueError, match="unit:NAME, identifier:NAME or a unit name"):
        JournalSource(match)


def test_source_key_names_the_journal() -> None:
    assert JournalSource("unit:shop.service").key == "journal:unit:shop.service"
    assert JournalSource("identifier:shop", "/mnt/c/journal").key == "journal:identifier:shop in /mnt/c/journal"


@pytest.mark.parametrize("use_inotify", [False, True])
def test_wake_ends_a_wait_at_once(tmp_path: Path, use_inotify: bool) -> None:
    watcher = LogWatcher([str(tmp_path / "app.log")], use_inotify=use_inotify, coalesce=0)
    try:
        waker = threading.Timer(0.05, watcher.wake)
        started = time.monotonic()
        waker.start()
        watcher.wait(10.0)
        assert time.monotonic() - started < 2.0
        again = time.monotonic()
        watcher.wait(0.1)  # the wake-up was used up: this one sleeps its timeout
        assert time.monotonic() - again >= 0.09
    finally:
        waker.cancel()
        watcher.close()
    watcher.wake()  # after close: harmless
