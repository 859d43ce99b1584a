"""Follow configured log files and turn what they gain into error events.

:class:`FileFollower` follows one path like ``tail -F``: it reads what was appended, notices
rotation (the path now names another file: rename-and-create), truncation (the file shrank:
copytruncate) and a file that disappears and comes back, and never reads a line twice.
:class:`LogWatcher` follows several paths or glob patterns, sleeps in inotify (Linux) or polls,
and feeds each file's lines to its own :class:`EventDetector`; a detector holding a trace is
flushed once its file has been quiet for ``idle_flush`` seconds, so a crash at the end of a log
is reported within about a second.

Journal sources (:mod:`reporter_app.detect.journal`) are followed by a journalctl child each; their
lines go through the same detection, under the source's key (``journal:unit:NAME``) instead of a
path. A follower wakes :meth:`LogWatcher.wait` through a pipe when lines arrive, and so can any
thread through :meth:`LogWatcher.wake` (to stop the watching loop at once, say).
"""

from __future__ import annotations

import contextlib
import glob
import os
import select
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from reporter_app.detect.events import ErrorEvent, EventDetector
from reporter_app.detect.inotify import Inotify
from reporter_app.detect.journal import JournalFollower, JournalSource

_READ_CHUNK = 1 << 20
_MAX_PARTIAL = 1 << 20  # a "line" longer than this without a newline is cut rather than buffered forever
# The last bytes read are compared again before reading on: a file truncated and refilled past our
# offset between two looks (copytruncate under load) has other bytes there, and is read from its start.
_SIGNATURE_BYTES = 64


class FileFollower:
    """Reads lines appended to ``path``. ``from_start``: read what is already there (else start at its end)."""

    def __init__(self, path: str | os.PathLike[str], from_start: bool = False) -> None:
        self.path = os.fspath(path)
        self._fh: BinaryIO | None = None
        self._identity: tuple[int, int] | None = None
        self._partial = b""
        self._signature = b""
        self._open(seek_end=not from_start)

    def _open(self, seek_end: bool) -> bool:
        try:
            fh = open(self.path, "rb")  # noqa: SIM115 - kept open across calls on purpose
        except OSError:
            return False
        st = os.fstat(fh.fileno())
        self._signature = b""
        if seek_end:
            end = fh.seek(0, os.SEEK_END)
            if end:
                fh.seek(max(end - _SIGNATURE_BYTES, 0))
                self._signature = fh.read(end - fh.tell())
        self._fh = fh
        self._identity = (st.st_dev, st.st_ino)
        return True

    def read_lines(self) -> list[str]:
        """New complete lines since the last call (a partial last line waits for its newline)."""
        chunks: list[bytes] = []
        try:
            current = os.stat(self.path)
        except OSError:
            current = None
        if self._fh is None:
            # The file was missing: a new one is read from its start, it is all new.
            if current is not None and self._open(seek_end=False):
                chunks.append(self._read_available())
        else:
            identity = (current.st_dev, current.st_ino) if current is not None else None
            if identity != self._identity:
                # Rotated or deleted: what the writer appended to the old file before switching is still ours.
                chunks.append(self._read_available())
                self._close()
                if current is not None and self._open(seek_end=False):
                    chunks.append(self._read_available())
            else:
                assert self._fh is not None
                if current is not None and self._rewritten(current.st_size):
                    # Truncated in place (copytruncate): start over at its new beginning.
                    self._fh.seek(0)
                    self._partial = b""
                    self._signature = b""
                chunks.append(self._read_available())
        return self._split(b"".join(chunks))

    def _rewritten(self, size: int) -> bool:
        assert self._fh is not None
        offset = self._fh.tell()
        if size < offset:
            return True
        if size == offset or not self._signature:
            return False  # nothing new to read; a same-size rewrite is caught once it grows
        self._fh.seek(offset - len(self._signature))
        same = self._fh.read(len(self._signature)) == self._signature
        self._fh.seek(offset)
        return not same

    def _read_available(self) -> bytes:
        if self._fh is None:
            return b""
        parts = []
        while True:
            data = self._fh.read(_READ_CHUNK)
            if not data:
                break
            parts.append(data)
        data = b"".join(parts)
        if data:
            self._signature = (self._signature + data)[-_SIGNATURE_BYTES:]
        return data

    def _split(self, data: bytes) -> list[str]:
        if not data:
            return []
        data = self._partial + data
        lines = data.split(b"\n")
        self._partial = lines.pop()
        if len(self._partial) > _MAX_PARTIAL:
            lines.append(self._partial)
            self._partial = b""
        return [line.rstrip(b"\r").decode("utf-8", errors="replace") for line in lines]

    def _close(self) -> None:
        if self._fh is not None:
            self._fh.close()
        self._fh = None
        self._identity = None
        self._partial = b""

    def close(self) -> None:
        self._close()


@dataclass(frozen=True)
class WatchedEvent:
    path: str
    event: ErrorEvent


JournalFactory = Callable[[JournalSource, Callable[[], None]], JournalFollower]


def _journal_follower(source: JournalSource, on_lines: Callable[[], None]) -> JournalFollower:
    return JournalFollower(source, on_lines=on_lines)


class LogWatcher:
    """Follows ``patterns`` (paths or globs) and ``journals``. Use :meth:`poll` from your own loop, or :meth:`run`.

    ``clock``: a monotonic time source (injectable for tests). ``use_inotify``: None = when available.
    ``journal_factory``: makes the follower of a journal source (tests shorten its restart delays).
    """

    def __init__(self, patterns: Iterable[str], poll_interval: float = 1.0, idle_flush: float = 0.5,
                 use_inotify: bool | None = None, clock: Callable[[], float] = time.monotonic,
                 detector_factory: Callable[[], EventDetector] = EventDetector, coalesce: float = 0.05,
                 journals: Iterable[JournalSource] = (), journal_factory: JournalFactory = _journal_follower) -> None:
        self.patterns = [os.path.expandvars(os.path.expanduser(p)) for p in patterns]
        self.poll_interval = poll_interval
        self.idle_flush = idle_flush
        # After a wake-up, wait this long so a busy log is read in batches rather than once per write.
        self.coalesce = coalesce
        self._clock = clock
        self._factory = detector_factory
        self._followers: dict[str, FileFollower] = {}
        self._detectors: dict[str, EventDetector] = {}
        self._last_line_at: dict[str, float] = {}
        self._inotify: Inotify | None = None
        if use_inotify is None:
            use_inotify = Inotify.available()
        if use_inotify:
            try:
                self._inotify = Inotify()
            except OSError:
                self._inotify = None
        # A pipe that any thread may write to so that wait() returns at once (select() needs a file
        # descriptor; on Windows it takes sockets only, and there is neither inotify nor a journal).
        self._wake_fds: tuple[int, int] | None = None
        if os.name == "posix":
            read_end, write_end = os.pipe()
            for fd in (read_end, write_end):
                os.set_blocking(fd, False)
            self._wake_fds = (read_end, write_end)
        self._journals: dict[str, JournalFollower] = {}
        for source in journals:
            self._detectors[source.key] = self._factory()
            self._journals[source.key] = journal_factory(source, self.wake)
        self._discover(initial=True)

    @property
    def uses_inotify(self) -> bool:
        return self._inotify is not None

    @property
    def files(self) -> list[str]:
        return sorted(self._followers)

    @property
    def journals(self) -> dict[str, JournalFollower]:
        """Journal followers by key (``journal:...``); a follower's ``problem`` says why it is not following."""
        return dict(self._journals)

    def _discover(self, initial: bool = False) -> None:
        for pattern in self.patterns:
            matches = glob.glob(pattern) if glob.has_magic(pattern) else [pattern]
            for path in matches:
                if path in self._followers or (glob.has_magic(pattern) and not os.path.isfile(path)):
                    continue
                # Files there at start are followed from their end (old errors were seen before);
                # a file that appears later is new, so all of it is read.
                self._followers[path] = FileFollower(path, from_start=not initial)
                self._detectors[path] = self._factory()
            if self._inotify is not None:
                directory = os.path.dirname(pattern) or "."
                if not glob.has_magic(directory):
                    self._inotify.watch_directory(directory)

    def wake(self) -> None:
        """Make :meth:`wait` return now (any thread: a journal follower, or whoever stops the loop)."""
        wake_fds = self._wake_fds
        if wake_fds is not None:
            with contextlib.suppress(OSError):  # full (a wake-up is pending anyway) or closed
                os.write(wake_fds[1], b"x")

    def wait(self, timeout: float) -> None:
        """Sleep until a watched directory changes (inotify), :meth:`wake` is called, or ``timeout`` passes."""
        fds = [self._inotify.fd] if self._inotify is not None else []
        if self._wake_fds is not None:
            fds.append(self._wake_fds[0])
        if not fds:
            if timeout > 0:
                time.sleep(timeout)
            return
        ready, _, _ = select.select(fds, [], [], max(timeout, 0.0))
        if not ready:
            return
        if self._inotify is not None and self._inotify.fd in ready:
            self._inotify.drain()
        if self._wake_fds is not None and self._wake_fds[0] in ready:
            with contextlib.suppress(OSError):
                while os.read(self._wake_fds[0], 4096):
                    pass
        if self.coalesce > 0:
            time.sleep(self.coalesce)

    def read_lines(self) -> list[tuple[str, str]]:
        """New ``(path, line)`` pairs from every followed file, then ``(key, line)`` from every journal."""
        self._discover()
        out: list[tuple[str, str]] = []
        for path, follower in self._followers.items():
            out.extend((path, line) for line in follower.read_lines())
        for key, journal in self._journals.items():
            out.extend((key, line) for line in journal.read_lines())
        return out

    def poll(self) -> list[WatchedEvent]:
        """Read new lines and return the error events they complete (and those that went quiet)."""
        now = self._clock()
        events: list[WatchedEvent] = []
        for path, line in self.read_lines():
            self._last_line_at[path] = now
            events.extend(WatchedEvent(path, e) for e in self._detectors[path].feed(line))
        for path, detector in self._detectors.items():
            if detector.busy and now - self._last_line_at.get(path, now) >= self.idle_flush:
                events.extend(WatchedEvent(path, e) for e in detector.flush())
        return events

    def next_timeout(self) -> float:
        """How long :meth:`wait` may sleep: short while a detector holds a trace, else the poll interval."""
        if any(d.busy for d in self._detectors.values()):
            return min(self.idle_flush, self.poll_interval) / 2
        # inotify wakes us on change; the timeout is only a safety net (a missed event, a new directory).
        return self.poll_interval * (5 if self._inotify is not None else 1)

    def run(self, should_stop: Callable[[], bool]) -> Iterator[WatchedEvent]:
        while not should_stop():
            yield from self.poll()
            self.wait(self.next_timeout())

    def close(self) -> None:
        for journal in self._journals.values():
            journal.close()
        for follower in self._followers.values():
            follower.close()
        if self._inotify is not None:
            self._inotify.close()
            self._inotify = None
        # Forgotten before closing: a late wake() must not write into a descriptor number reused by then.
        wake_fds, self._wake_fds = self._wake_fds, None
        for fd in wake_fds or ():
            os.close(fd)

