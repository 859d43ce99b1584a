from __future__ import annotations

import gzip
import os
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capture import logs
from capture.logs import LogSourceSpec, LogSourceUnavailable, read_recent, tail_lines


def write(path: Path, data: bytes, mtime: float | None = None) -> Path:
    path.write_bytes(data)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def test_empty_file(tmp_path: Path) -> None:
    assert tail_lines(write(tmp_path / "a.log", b""), 10, 1000) == []


def test_single_newline_is_one_empty_line(tmp_path: Path) -> None:
    assert tail_lines(write(tmp_path / "a.log", b"\n"), 10, 1000) == [b""]


def test_no_trailing_newline(tmp_path: Path) -> None:
    path = write(tmp_path / "a.log", b"one\ntwo\nthree")
    assert tail_lines(path, 2, 1000) == [b"two", b"three"]
    assert tail_lines(path, 10, 1000) == [b"one", b"two", b"three"]


def test_trailing_newline_and_crlf(tmp_path: Path) -> None:
    path = write(tmp_path / "a.log", b"one\r\ntwo\r\nthree\r\n")
    assert tail_lines(path, 2, 1000) == [b"two", b"three"]


def test_spans_many_blocks(tmp_path: Path) -> None:
    lines = [f"line {i:06d}".encode() for i in range(50_000)]
    path = write(tmp_path / "a.log", b"\n".join(lines) + b"\n")
    assert tail_lines(path, 20_000, 10**9) == lines[-20_000:]


def test_byte_cap_drops_partial_line(tmp_path: Path) -> None:
    path = write(tmp_path / "a.log", b"aaaa\nbbbb\ncccc\n")
    # 8 bytes from the end: "bb\ncccc\n" -> the partial "bb" must not appear.
    assert tail_lines(path, 10, 8) == [b"cccc"]


def test_zero_lines(tmp_path: Path) -> None:
    assert tail_lines(write(tmp_path / "a.log", b"x\n"), 0, 100) == []


def test_long_lines_cut_with_marker_and_invalid_utf8(tmp_path: Path) -> None:
    write(tmp_path / "a.log", b"ok \xff\xfe bad\n" + b"x" * 100 + b"\n")
    excerpt = read_recent(LogSourceSpec("app", path=str(tmp_path / "a.log"), max_line_length=10))
    first, second = excerpt.text.split("\n")
    assert first == "ok \ufffd\ufffd bad"
    assert second == "x" * 10 + " …[line cut: 90 more chars]"
    assert excerpt.line_count == 2 and not excerpt.truncated


def test_rotation_newest_first_tail_spans_files(tmp_path: Path) -> None:
    now = 1_700_000_000
    with gzip.open(tmp_path / "app.log.2.gz", "wb") as fh:
        fh.write(b"g1\ng2\n")
    os.utime(tmp_path / "app.log.2.gz", (now - 200, now - 200))
    write(tmp_path / "app.log.1", b"r1\nr2\n", now - 100)
    write(tmp_path / "app.log", b"c1\nc2\n", now)
    write(tmp_path / "other.txt", b"nope\n", now + 10)
    spec = LogSourceSpec("app", path=str(tmp_path / "app.log"), lines=5)
    excerpt = read_recent(spec)
    assert excerpt.text.split("\n") == ["g2", "r1", "r2", "c1", "c2"]
    assert [Path(s).name for s in excerpt.sources] == ["app.log", "app.log.1", "app.log.2.gz"]
    # Only what is needed is read.
    assert [Path(s).name for s in read_recent(LogSourceSpec("app", path=str(tmp_path / "app.log"), lines=2)).sources] == [
        "app.log"
    ]


def test_glob_over_dated_files(tmp_path: Path) -> None:
    write(tmp_path / "app-1.log", b"old\n", 1000)
    write(tmp_path / "app-2.log", b"new\n", 2000)
    excerpt = read_recent(LogSourceSpec("app", path=str(tmp_path / "app-*.log"), lines=10))
    assert excerpt.text == "old\nnew"


def test_byte_cap_marks_truncated(tmp_path: Path) -> None:
    write(tmp_path / "a.log", b"".join(f"line {i}\n".encode() for i in range(1000)))
    excerpt = read_recent(LogSourceSpec("a", path=str(tmp_path / "a.log"), lines=500, max_bytes=100))
    assert excerpt.truncated and "byte cap" in excerpt.note
    assert excerpt.text.endswith("line 999") and len(excerpt.text) <= 100


def test_minutes_filter_with_timestamps_and_continuations(tmp_path: Path) -> None:
    now = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
    old = (now - timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    recent = (now - timedelta(minutes=5)).strftime("%Y-%m-%d %H:%M:%S,123Z")
    write(tmp_path / "a.log", f"{old} old\n  old continuation\n{recent} new\nTraceback (most recent call last):\n".encode())
    excerpt = read_recent(LogSourceSpec("a", path=str(tmp_path / "a.log"), minutes=10, lines=0), now=now)
    assert excerpt.text.split("\n") == [f"{recent} new", "Traceback (most recent call last):"]


def test_minutes_and_lines_both_apply(tmp_path: Path) -> None:
    now = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
    stamps = [(now - timedelta(minutes=m)).strftime("%Y-%m-%dT%H:%M:%S+00:00") for m in (20, 3, 2, 1)]
    write(tmp_path / "a.log", "".join(f"{s} m\n" for s in stamps).encode())
    excerpt = read_recent(LogSourceSpec("a", path=str(tmp_path / "a.log"), minutes=10, lines=2), now=now)
    assert excerpt.line_count == 2 and excerpt.text.startswith(stamps[2])


def test_syslog_timestamp_year_rollover() -> None:
    now = datetime(2024, 1, 1, 0, 5).astimezone()
    stamp = logs.parse_timestamp(b"Dec 31 23:59:00 host app: x", now)
    assert stamp is not None and stamp.year == 2023


def test_parse_timestamp_offsets() -> None:
    now = datetime.now(timezone.utc)
    stamp = logs.parse_timestamp(b"2024-05-01T12:00:00.5+02:00 x", now)
    assert stamp == datetime(2024, 5, 1, 10, 0, 0, 500000, tzinfo=timezone.utc)
    assert logs.parse_timestamp(b"no time here", now) is None


def test_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_recent(LogSourceSpec("a", path=str(tmp_path / "nope*.log")))


def test_journal_command_and_parse() -> None:
    assert logs.journal_command(LogSourceSpec("j", journal="unit:nginx.service", lines=50, minutes=5)) == [
        "journalctl", "--no-pager", "-q", "-o", "json", "--all", "-u", "nginx.service", "-n", "50",
        "--since", "-5min"]
    assert logs.journal_command(LogSourceSpec("j", journal="identifier:myapp"))[6:8] == ["-t", "myapp"]
    out = (b'{"__REALTIME_TIMESTAMP":"1714564800000000","MESSAGE":"hello","SYSLOG_IDENTIFIER":"app","_PID":"42"}\n'
           b'{"__REALTIME_TIMESTAMP":"1714564801000000","MESSAGE":[104,255],"SYSLOG_IDENTIFIER":"app"}\nnot json\n')
    assert logs._journal_lines(out) == [b"2024-05-01T12:00:00.000+00:00 app[42]: hello",
                                        "2024-05-01T12:00:01.000+00:00 app: h\ufffd".encode()]


def test_eventlog_and_unified_log_commands() -> None:
    cmd = logs.eventlog_command(LogSourceSpec("w", eventlog="Application:MyApp", lines=20, minutes=10))
    assert cmd[:6] == ["wevtutil", "qe", "Application", "/rd:true", "/f:text", "/c:20"]
    assert cmd[6] == "/q:*[System[Provider[@Name='MyApp'] and TimeCreated[timediff(@SystemTime) <= 600000]]]"
    cmd = logs.unified_log_command(LogSourceSpec("m", unified_log='process == "MyApp"', minutes=5))
    assert cmd == ["log", "show", "--style", "compact", "--last", "5m", "--predicate", 'process == "MyApp"']


@pytest.mark.skipif(sys.platform == "win32", reason="checks the non-Windows guard")
def test_platform_guards() -> None:
    with pytest.raises(LogSourceUnavailable, match="Windows"):
        read_recent(LogSourceSpec("w", eventlog="Application"))


@settings(max_examples=200, deadline=None)
@given(
    data=st.binary(max_size=400).map(lambda b: b.replace(b"\r", b"")),
    n=st.integers(0, 30),
    cap=st.integers(1, 500),
)
def test_tail_matches_naive_split(tmp_path_factory: pytest.TempPathFactory, data: bytes, n: int, cap: int) -> None:
    path = tmp_path_factory.mktemp("t") / "a.log"
    path.write_bytes(data)
    got = tail_lines(path, n, cap)
    lines = data.split(b"\n")
    if data.endswith(b"\n"):
        lines = lines[:-1]
    if not data:
        lines = []
    expected = lines[-n:] if n else []
    if cap >= len(data):
        assert got == expected
    else:
        # Under a cap: a suffix of the expected lines, never a partial line.
        assert got == expected[len(expected) - len(got):] if got else True
        assert sum(len(x) + 1 for x in got) <= cap + 1
