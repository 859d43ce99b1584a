"""Follow the systemd journal the way the watcher follows files: new entries only, messages whole.

A :class:`JournalFollower` runs ``journalctl --follow -o json`` for one ``[[logs]]`` journal source
on a thread of its own (never the GUI thread) and queues the lines of each entry's ``MESSAGE``;
:class:`~reporter_app.detect.watch.LogWatcher` feeds them to the same event detection as file lines.
A multi-line MESSAGE becomes several lines, in order, so a traceback logged in one entry and one
printed to stderr line by line (one entry per line) are detected alike.

- Position: the first run starts at the follower's creation time (``--since=@T``), so an entry
  written while journalctl is still opening the journal is not lost; a restart resumes after the
  last entry read (``--after-cursor``), so nothing is read twice or skipped.
- journalctl dies (journal rotated away, killed, unreadable files): restarted with a growing delay
  (``backoff_initial`` doubling up to ``backoff_max``; back to the start after a run that lasted
  ``healthy_after`` seconds).
  Each distinct problem is logged once as a warning (later repeats at debug level), so a journal
  that stays unreadable gives one clear line, not a warning every few seconds.
- journalctl missing: one warning, and the source is not watched (``problem`` says why).
- Shutdown: :meth:`close` terminates the child and reaps it. If the app dies without closing,
  journalctl (systemd 252) notices its stdout pipe closed and exits within ~0.1 s by itself.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from capture.logs import journal_selection, journal_text, parse_journal_match

log = logging.getLogger(__name__)

JOURNALCTL = "journalctl"
# A message longer than this is cut (journald's own default limit for a field is 64 KiB; --all lets
# bigger ones through as text, which a runaway writer could make huge).
MAX_MESSAGE_CHARS = 1 << 20
# Lines read but not yet taken by the watcher; beyond this the oldest are dropped (and it is logged).
MAX_QUEUED_LINES = 200_000
# Only what detection needs; journalctl adds __CURSOR and the timestamps to JSON output anyway.
_OUTPUT_FIELDS = "MESSAGE,_PID,SYSLOG_IDENTIFIER"


@dataclass(frozen=True)
class JournalSource:
    """What to follow: ``match`` as in ``[[logs]] journal`` and, optionally, another journal.

    ``match``: ``"unit:NAME"``, ``"identifier:NAME"`` or a bare unit name.
    ``journal_file``: a journal file, or a directory of them (e.g. a container's mounted
    ``/var/log/journal``); "" follows the system journal.
    """

    match: str
    journal_file: str = ""

    def __post_init__(self) -> None:
        parse_journal_match(self.match)  # a bad match is a clear error at start, not a dying child later

    @property
    def key(self) -> str:
        """How the watcher names this source where a file source has its path."""
        where = f" in {self.journal_file}" if self.journal_file else ""
        return f"journal:{self.match}{where}"


def follow_command(source: JournalSource, *, since: float, cursor: str | None,
                   journalctl: str = JOURNALCTL) -> list[str]:
    """The journalctl command line: from ``cursor`` (exclusive) if we have one, else from ``since`` (epoch s)."""
    # Not -q: journalctl's hint that the user may not read other users' and the system's entries
    # ("Users in groups 'adm', 'systemd-journal' can see all messages") is the message to pass on.
    # --all: JSON output would give null for a MESSAGE over 4096 bytes (a long traceback).
    cmd = [journalctl, "--follow", "--no-pager", "--output=json", "--all", f"--output-fields={_OUTPUT_FIELDS}"]
    # The same match and file/directory arguments as the report's tail (capture.logs), so both read the
    # same entries. A journal_file missing now is not an error here: journalctl fails, and the retries
    # pick the file up once it is there (a container's journal mounted later).
    cmd += journal_selection(source.match, source.journal_file)
    # No -n: with --since or --after-cursor journalctl prints every entry from there, then follows.
    cmd.append(f"--after-cursor={cursor}" if cursor else f"--since=@{since:.6f}")
    return cmd


def message_lines(entry: dict[str, Any]) -> list[str]:
    """The lines of one JSON journal entry's MESSAGE (text, byte array, or several values)."""
    value = entry.get("MESSAGE")
    if value is None:
        return []
    text = journal_text(value)  # text, a byte array (not UTF-8) or a field set more than once
    if len(text) > MAX_MESSAGE_CHARS:
        text = text[:MAX_MESSAGE_CHARS]
    # A trailing newline ends the message; it does not start an empty line.
    return [line.rstrip("\r") for line in text.removesuffix("\n").split("\n")]


class JournalFollower:
    """Follows one journal source from now on; :meth:`read_lines` takes what arrived.

    ``on_lines``: called (on the follower's thread) when lines arrive after the queue was empty,
    so the watcher can wake up. ``clock``: wall-clock seconds, where following starts.
    """

    def __init__(self, source: JournalSource, *, on_lines: Callable[[], None] = lambda: None,
                 clock: Callable[[], float] = time.time, backoff_initial: float = 1.0, backoff_max: float = 60.0,
                 healthy_after: float = 30.0, journalctl: str = JOURNALCTL) -> None:
        self.source = source
        self._on_lines = on_lines
        self._since = clock()
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._healthy_after = healthy_after
        self._journalctl = journalctl
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._lines: deque[str] = deque()
        self._dropped = 0
        self._cursor: str | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._said: set[str] = set()
        self.problem = ""  # why the source is not being followed right now; "" while it is
        self.starts = 0  # journalctl processes started (1 + restarts)
        self._thread = threading.Thread(target=self._run, name=f"journal {source.match}", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------ the watcher's side

    def read_lines(self) -> list[str]:
        with self._lock:
            lines = list(self._lines)
            self._lines.clear()
            dropped, self._dropped = self._dropped, 0
        if dropped:
            log.error("journal source %s: %d lines were dropped, the watcher did not keep up", self.source.key,
                      dropped)
        return lines

    @property
    def pid(self) -> int | None:
        """The running journalctl's process id (tests kill it to see the restart)."""
        proc = self._proc
        return proc.pid if proc is not None and proc.returncode is None else None

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def close(self, timeout: float = 3.0) -> None:
        """Stop journalctl and wait for it (no zombie) and for the reading thread."""
        with self._lock:
            self._closing.set()
            proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._thread.join(timeout)

    # ------------------------------------------------------------ the follower's thread

    def _run(self) -> None:
        delay = self._backoff_initial
        while not self._closing.is_set():
            executable = shutil.which(self._journalctl)
            if executable is None:
                self._say(f"{self._journalctl} not found, so this journal source is not watched "
                          "(journalctl comes with systemd)")
                return
            started = time.monotonic()
            try:
                with self._lock:
                    if self._closing.is_set():
                        return
                    cmd = follow_command(self.source, since=self._since, cursor=self._cursor, journalctl=executable)
                    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                            stderr=subprocess.PIPE)
                    self._proc = proc
                    self.starts += 1
            except OSError as exc:
                reason = f"journalctl could not start: {exc}"
            else:
                reason = self._follow(proc)
                if self._closing.is_set():
                    return
                if time.monotonic() - started >= self._healthy_after:
                    # It ran well for a while: start the delays over, and say it again if it fails again.
                    delay = self._backoff_initial
                    self._said.clear()
            self._say(f"{reason}; trying again in {delay:g} s", key=reason)
            if self._closing.wait(delay):
                return
            delay = min(delay * 2, self._backoff_max)

    def _follow(self, proc: subprocess.Popen[bytes]) -> str:
        """Read one journalctl run to its end; returns why it ended."""
        assert proc.stdout is not None and proc.stderr is not None
        stderr_tail: deque[str] = deque(maxlen=3)
        stderr_reader = threading.Thread(target=self._read_stderr, args=(proc, stderr_tail), daemon=True,
                                         name=f"journal {self.source.match} stderr")
        stderr_reader.start()
        received = False
        for raw in proc.stdout:
            try:
                entry = json.loads(raw)
            except ValueError:
                continue  # not JSON: nothing journalctl means as an entry
            if not isinstance(entry, dict):
                continue
            if not received and self.problem:
                log.info("journal source %s: following again", self.source.key)
            received = True
            self.problem = ""
            self._queue(message_lines(entry), entry.get("__CURSOR"))
        status = proc.wait()
        stderr_reader.join(2.0)
        proc.stdout.close()
        proc.stderr.close()
        with self._lock:
            self._proc = None
        said = f": {stderr_tail[-1]}" if stderr_tail else ""
        return f"journalctl exited with status {status}{said}"

    def _queue(self, lines: list[str], cursor: Any) -> None:
        with self._lock:
            was_empty = not self._lines
            self._lines.extend(lines)
            overflow = len(self._lines) - MAX_QUEUED_LINES
            for _ in range(max(overflow, 0)):
                self._lines.popleft()
                self._dropped += 1
            if isinstance(cursor, str) and cursor:
                self._cursor = cursor
        if was_empty and lines:
            self._on_lines()

    def _read_stderr(self, proc: subprocess.Popen[bytes], tail: deque[str]) -> None:
        assert proc.stderr is not None
        for raw in proc.stderr:
            text = raw.decode("utf-8", errors="replace").strip()
            if not text:
                continue
            tail.append(text)
            try:
                proc.wait(0.5)
                continue  # it is exiting: the exit's report carries this line
            except subprocess.TimeoutExpired:
                pass
            # Still running, e.g. the hint that other users' and the system's entries are not readable.
            self._say(f"journalctl says: {text}")

    def _say(self, message: str, key: str | None = None) -> None:
        """Log a problem once as a warning; the same problem again only at debug level."""
        self.problem = message
        key = key or message
        if key in self._said:
            log.debug("journal source %s: %s", self.source.key, message)
            return
        self._said.add(key)
        log.warning("journal source %s: %s", self.source.key, message)
