"""Recent log lines from files (rotation-aware), the systemd journal, the Windows Event Log and macOS unified log.

Files are read from the end: the cost grows with the lines asked for, never with the
file (a 1 GiB log costs what a 1 MiB one does). Text is decoded with replacement so a
stray byte never costs the excerpt, and long lines are cut with a visible marker.
Scrubbing is the caller's job (``capture.scrub``), before anything reaches disk.
"""

from __future__ import annotations

import glob
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

_BLOCK = 64 * 1024
# When only minutes are asked for, lines are bounded by max_bytes instead.
_MINUTES_ONLY_LINES = 1_000_000
_SUBPROCESS_TIMEOUT = 10.0


@dataclass
class LogSourceSpec:
    """One configured log source. Exactly one of path / journal / eventlog / unified_log is expected.

    ``journal``: ``"unit:NAME"``, ``"identifier:NAME"`` or a bare unit name (:func:`parse_journal_match`).
    ``journal_file``: with ``journal``, a journal file (or glob of them) or a directory of them, e.g. a
    container's mounted ``/var/log/journal``, read instead of the system journal; ``~`` is expanded.
    ``eventlog``: Windows log name, optionally ``"Application:Provider"``.
    ``unified_log``: a macOS ``log show`` predicate, e.g. ``process == "MyApp"``.
    """

    name: str
    path: str = ""
    journal: str = ""
    journal_file: str = ""
    lines: int = 500
    minutes: int = 0
    max_bytes: int = 1_048_576
    max_line_length: int = 4096
    eventlog: str = ""
    unified_log: str = ""


@dataclass
class LogExcerpt:
    name: str
    text: str
    line_count: int
    truncated: bool
    sources: list[str] = field(default_factory=list)
    note: str = ""


class LogSourceUnavailable(Exception):
    """The source can't be read here (wrong platform, tool missing): an environment fact, not a bug."""


# --------------------------------------------------------------------------- files


def tail_lines(path: Path, n: int, max_bytes: int) -> list[bytes]:
    """The last ``n`` lines of ``path`` (without line endings), reading at most about ``max_bytes`` from its end."""
    lines, _ = _tail_file(path, n, max_bytes)
    return lines


def _tail_file(path: Path, n: int, max_bytes: int) -> tuple[list[bytes], bool]:
    """Seek-from-end tail. Returns (lines, hit_byte_cap)."""
    if n <= 0 or max_bytes <= 0:
        return [], False
    with open(path, "rb") as fh:
        end = fh.seek(0, os.SEEK_END)
        pos = end
        chunks: list[bytes] = []
        newlines = 0
        read = 0
        # A trailing newline ends the last line; it doesn't start an empty one.
        skip_trailing = 0
        if end:
            fh.seek(end - 1)
            skip_trailing = 1 if fh.read(1) == b"\n" else 0
        while pos > 0 and newlines <= n - 1 + skip_trailing and read < max_bytes:
            size = min(_BLOCK, pos, max_bytes - read)
            pos -= size
            fh.seek(pos)
            chunk = fh.read(size)
            chunks.append(chunk)
            newlines += chunk.count(b"\n")
            read += size
    data = b"".join(reversed(chunks))
    if skip_trailing:
        data = data[:-1]
    capped = pos > 0 and read >= max_bytes
    parts = data.split(b"\n")
    if pos > 0:
        # The first piece started mid-line (either we stopped at enough newlines, or at the cap).
        parts = parts[1:]
        if len(parts) >= n:
            capped = False
    if not data and pos == 0 and not skip_trailing:
        parts = []  # an empty file has no lines; a lone "\n" has one empty line
    if len(parts) > n:
        parts = parts[-n:]
    return [p[:-1] if p.endswith(b"\r") else p for p in parts], capped


def _tail_gzip(path: Path, n: int, max_bytes: int) -> tuple[list[bytes], bool]:
    """Rotated, compressed logs can't be read backwards: stream them, keeping only the last n lines."""
    last: deque[bytes] = deque(maxlen=max(n, 0))
    with gzip.open(path, "rb") as fh:
        for line in fh:
            last.append(line.rstrip(b"\r\n"))
    lines = list(last)
    total = 0
    kept: list[bytes] = []
    for line in reversed(lines):
        total += len(line) + 1
        if total > max_bytes:
            return list(reversed(kept)), True
        kept.append(line)
    return lines, False


_ROTATION = re.compile(r"\.(\d+)(?:\.gz)?$|\.gz$")


def _rotation_index(path: str) -> int:
    m = _ROTATION.search(path)
    if not m:
        return 0
    return int(m.group(1)) if m.group(1) else 1


def rotation_files(pattern: str) -> list[Path]:
    """Files matching ``pattern`` and their rotations (``app.log.1``, ``app.log.2.gz``), newest first."""
    expanded = os.path.expandvars(os.path.expanduser(pattern))
    found = set(glob.glob(expanded))
    for extra in glob.glob(expanded + ".*"):
        if _ROTATION.search(extra):
            found.add(extra)
    files = [f for f in found if os.path.isfile(f)]

    def order(f: str) -> tuple[float, int, str]:
        # Newest first; rotations of equal mtime (same second, copied files) by their number.
        return (-os.stat(f).st_mtime, _rotation_index(f), f)

    return [Path(f) for f in sorted(files, key=order)]


def _read_files(spec: LogSourceSpec, wanted: int) -> tuple[list[bytes], list[str], bool]:
    files = rotation_files(spec.path)
    if not files:
        raise FileNotFoundError(f"no file matches {spec.path}")
    collected: list[list[bytes]] = []
    sources: list[str] = []
    budget = spec.max_bytes
    need = wanted
    truncated = False
    for path in files:
        if need <= 0:
            break
        if budget <= 0:
            truncated = True
            break
        reader = _tail_gzip if path.suffix == ".gz" else _tail_file
        lines, capped = reader(path, need, budget)
        sources.append(str(path))
        collected.append(lines)
        need -= len(lines)
        budget -= sum(len(line) + 1 for line in lines)
        if capped:
            truncated = True
            break
    ordered = [line for chunk in reversed(collected) for line in chunk]
    return ordered, sources, truncated


# --------------------------------------------------------------------------- timestamps

_MONTHS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}
_ISO = re.compile(
    rb"^\[?(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,](\d{1,6})\d*)?\s?(Z|[+-]\d\d:?\d\d)?"
)
_SYSLOG = re.compile(rb"^([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d\d):(\d\d):(\d\d)")


def parse_timestamp(line: bytes, now: datetime) -> datetime | None:
    """A timestamp at the start of ``line`` (ISO-8601-ish or syslog), as an aware datetime; else None.

    Naive times are local time, as log writers mean them.
    """
    m = _ISO.match(line)
    if m:
        year, month, day, hh, mm, ss = (int(g) for g in m.groups()[:6])
        micro = int((m.group(7) or b"0").ljust(6, b"0"))
        tz = m.group(8)
        try:
            if tz is None:
                return datetime(year, month, day, hh, mm, ss, micro).astimezone()
            if tz == b"Z":
                return datetime(year, month, day, hh, mm, ss, micro, tzinfo=timezone.utc)
            sign = 1 if tz[:1] == b"+" else -1
            digits = tz[1:].replace(b":", b"")
            offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
            return datetime(year, month, day, hh, mm, ss, micro, tzinfo=timezone(sign * offset))
        except ValueError:
            return None
    m = _SYSLOG.match(line)
    if m:
        month_number = _MONTHS.get(m.group(1).decode().lower())
        if month_number is None:
            return None
        local_now = now.astimezone()
        day, hh, mm, ss = (int(g) for g in m.groups()[1:])
        try:
            stamp = datetime(local_now.year, month_number, day, hh, mm, ss).astimezone()
        except ValueError:
            return None
        # Syslog has no year: a December line read in January is from last year.
        if stamp - local_now > timedelta(days=1):
            stamp = stamp.replace(year=stamp.year - 1)
        return stamp
    return None


def _within_minutes(lines: list[bytes], minutes: int, now: datetime) -> tuple[list[bytes], bool]:
    """Keep lines from the last ``minutes``; a line without a timestamp belongs to the one above (tracebacks)."""
    since = now - timedelta(minutes=minutes)
    kept: list[bytes] = []
    keep = False
    dropped = False
    for line in lines:
        stamp = parse_timestamp(line, now)
        if stamp is not None:
            keep = stamp >= since
        if keep:
            kept.append(line)
        else:
            dropped = True
    return kept, dropped


# --------------------------------------------------------------------------- decoding


def _decode(lines: Iterable[bytes], max_line_length: int) -> list[str]:
    out: list[str] = []
    for raw in lines:
        text = raw.decode("utf-8", errors="replace")
        if max_line_length > 0 and len(text) > max_line_length:
            text = f"{text[:max_line_length]} …[line cut: {len(text) - max_line_length} more chars]"
        out.append(text)
    return out


# --------------------------------------------------------------------------- journal / event logs


_JOURNAL_MATCH_FLAGS = {"unit": "-u", "identifier": "-t", "tag": "-t"}


@dataclass(frozen=True)
class JournalMatch:
    """Which entries a journal source means: journalctl's ``flag`` (``-u`` unit, ``-t`` identifier) and ``name``."""

    flag: str
    name: str

    @property
    def args(self) -> list[str]:
        return [self.flag, self.name]


def parse_journal_match(text: str) -> JournalMatch:
    """``"unit:NAME"``, ``"identifier:NAME"`` (``"tag:NAME"`` too) or a bare unit name; else a ValueError saying so.

    The one parser for ``[[logs]] journal``: the report's tail and the error watcher's follower both use it.
    """
    kind, colon, name = text.partition(":")
    if not colon:
        kind, name = "unit", text
    flag = _JOURNAL_MATCH_FLAGS.get(kind.strip())
    name = name.strip()
    if flag is None or not name:
        raise ValueError(f"journal source must be unit:NAME, identifier:NAME or a unit name, not {text!r}")
    return JournalMatch(flag, name)


def journal_location_args(journal_file: str) -> list[str]:
    """journalctl's ``--directory=D`` / ``--file=F`` for ``journal_file`` (``~`` expanded); [] for the system journal.

    A path that does not exist (yet) is taken as a file, or as a directory when it ends in a slash:
    the follower keeps retrying until a container's journal is mounted. The tail checks it first
    (:func:`journal_command`).
    """
    if not journal_file:
        return []
    where = os.path.expanduser(journal_file)
    if os.path.isdir(where) or (where.endswith(os.sep) and not os.path.exists(where)):
        return [f"--directory={where}"]
    return [f"--file={where}"]  # journalctl takes a glob here, so "*.journal" works too


def journal_selection(match: str, journal_file: str = "") -> list[str]:
    """journalctl's arguments choosing the journal and its entries: match flag and name, then file or directory."""
    return [*parse_journal_match(match).args, *journal_location_args(journal_file)]


def _check_journal_file(journal_file: str) -> None:
    where = os.path.expanduser(journal_file)
    # journalctl says only "Failed to open files: No such file or directory", without the path.
    if not os.path.exists(where) and not glob.glob(where):
        looked = f" ({where})" if where != journal_file else ""
        raise LogSourceUnavailable(f"journal_file {journal_file}{looked} does not exist")


def journal_command(spec: LogSourceSpec) -> list[str]:
    """``journalctl`` printing the source's last entries as JSON.

    Raises ValueError for a bad ``journal`` match, LogSourceUnavailable for a missing ``journal_file``.
    """
    selection = journal_selection(spec.journal, spec.journal_file)
    if spec.journal_file:
        _check_journal_file(spec.journal_file)
    # --all: without it, JSON output gives null for a MESSAGE over 4096 bytes (a long traceback).
    cmd = ["journalctl", "--no-pager", "-q", "-o", "json", "--all", *selection]
    if spec.lines > 0:
        cmd += ["-n", str(spec.lines)]
    if spec.minutes > 0:
        cmd += ["--since", f"-{spec.minutes}min"]
    return cmd


def journal_text(value: object) -> str:
    """A journal JSON field as text: a string, a byte array (not UTF-8), or a field set more than once."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(b, int) for b in value):
        # journald sends a MESSAGE that is not UTF-8 as an array of byte values.
        return bytes(b & 0xFF for b in value).decode("utf-8", errors="replace")
    if isinstance(value, list):  # a field set more than once in one entry: the list of its values
        return "\n".join(journal_text(v) for v in value)
    return ""


def _journal_lines(stdout: bytes) -> list[bytes]:
    """One line per line of each entry's MESSAGE, the first prefixed with time and sender (like a log file's
    traceback: the lines under it belong to it)."""
    lines: list[bytes] = []
    for raw in stdout.splitlines():
        try:
            entry = json.loads(raw)
        except ValueError:
            continue
        if not isinstance(entry, dict):
            continue
        message = journal_text(entry.get("MESSAGE")).removesuffix("\n")
        stamp = ""
        if "__REALTIME_TIMESTAMP" in entry:
            micros = int(entry["__REALTIME_TIMESTAMP"])
            stamp = datetime.fromtimestamp(micros / 1e6, timezone.utc).isoformat(timespec="milliseconds")
        ident = entry.get("SYSLOG_IDENTIFIER") or entry.get("_COMM") or ""
        pid = entry.get("_PID", "")
        who = f"{ident}[{pid}]" if pid else ident
        first, *rest = message.split("\n")
        lines.append(f"{stamp} {who}: {first}".encode("utf-8", errors="replace"))
        lines.extend(line.rstrip("\r").encode("utf-8", errors="replace") for line in rest)
    return lines


def eventlog_command(spec: LogSourceSpec) -> list[str]:
    log_name, _, provider = spec.eventlog.partition(":")
    conditions = []
    if provider:
        conditions.append(f"Provider[@Name='{provider}']")
    if spec.minutes > 0:
        conditions.append(f"TimeCreated[timediff(@SystemTime) <= {spec.minutes * 60_000}]")
    cmd = ["wevtutil", "qe", log_name, "/rd:true", "/f:text", f"/c:{max(spec.lines, 1)}"]
    if conditions:
        cmd.append("/q:*[System[" + " and ".join(conditions) + "]]")
    return cmd


def unified_log_command(spec: LogSourceSpec) -> list[str]:
    # ``log show`` needs a time window; without minutes, an hour is enough to find N lines.
    minutes = spec.minutes if spec.minutes > 0 else 60
    cmd = ["log", "show", "--style", "compact", "--last", f"{minutes}m"]
    if spec.unified_log:
        cmd += ["--predicate", spec.unified_log]
    return cmd


def _run(cmd: list[str]) -> bytes:
    if shutil.which(cmd[0]) is None:
        raise LogSourceUnavailable(f"{cmd[0]} not found")
    done = subprocess.run(cmd, capture_output=True, timeout=_SUBPROCESS_TIMEOUT, check=False)
    if done.returncode != 0 and not done.stdout:
        message = done.stderr.decode("utf-8", errors="replace").strip().splitlines()
        raise LogSourceUnavailable(f"{cmd[0]} exited {done.returncode}: {message[0] if message else ''}")
    return done.stdout


# --------------------------------------------------------------------------- entry point


def read_recent(spec: LogSourceSpec, now: datetime | None = None) -> LogExcerpt:
    """The recent lines of one source. Raises when the source can't be read at all (the caller guards it)."""
    now = now or datetime.now(timezone.utc)
    if now.tzinfo is None:
        now = now.astimezone()
    wanted = spec.lines if spec.lines > 0 else (_MINUTES_ONLY_LINES if spec.minutes > 0 else 0)
    notes: list[str] = []
    truncated = False
    if spec.path:
        raw, sources, truncated = _read_files(spec, wanted)
        if truncated:
            notes.append(f"older lines left out: byte cap of {spec.max_bytes} reached")
    elif spec.journal:
        if not sys.platform.startswith("linux"):
            raise LogSourceUnavailable("the systemd journal exists only on Linux")
        raw = _journal_lines(_run(journal_command(spec)))
        # Named as the error watcher names it (reporter_app.detect.journal.JournalSource.key).
        sources = [f"journal:{spec.journal}" + (f" in {spec.journal_file}" if spec.journal_file else "")]
    elif spec.eventlog:
        if sys.platform != "win32":
            raise LogSourceUnavailable("the Windows Event Log exists only on Windows")
        raw = _run(eventlog_command(spec)).splitlines()
        sources = [f"eventlog:{spec.eventlog}"]
    elif spec.unified_log:
        if sys.platform != "darwin":
            raise LogSourceUnavailable("the unified log exists only on macOS")
        raw = _run(unified_log_command(spec)).splitlines()[1:]  # first line is a header
        sources = ["unified-log"]
    else:
        raise ValueError(f"log source {spec.name!r} has no path, journal, eventlog or unified_log")

    if spec.minutes > 0 and spec.path:
        raw, dropped = _within_minutes(raw, spec.minutes, now)
        if dropped and truncated:
            # We read back past the time window, so the cap cost nothing that was asked for.
            truncated = False
            notes.clear()
    if spec.lines > 0 and len(raw) > spec.lines:
        raw = raw[-spec.lines :]
    if not spec.path:
        raw, capped = _cap_bytes(raw, spec.max_bytes)
        if capped:
            truncated = True
            notes.append(f"older lines left out: byte cap of {spec.max_bytes} reached")
    lines = _decode(raw, spec.max_line_length)
    if not lines:
        notes.append("no recent lines")
    return LogExcerpt(
        name=spec.name,
        text="\n".join(lines),
        line_count=len(lines),
        truncated=truncated,
        sources=sources,
        note="; ".join(notes),
    )


def _cap_bytes(lines: list[bytes], max_bytes: int) -> tuple[list[bytes], bool]:
    total = 0
    for i in range(len(lines) - 1, -1, -1):
        total += len(lines[i]) + 1
        if total > max_bytes:
            return lines[i + 1 :], True
    return lines, False
