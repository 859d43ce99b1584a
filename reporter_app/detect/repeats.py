"""Repeats of an error that has a ticket (or will have one): automatic "+1" notes, rate-limited.

Once a fingerprint has a ticket, each later occurrence is told to that ticket as an occurrence note
through the outbox (``Tracker.add_occurrence``), without asking anyone again. A flood must not turn
into a flood of notes, so they are limited per fingerprint to one per ``interval``
(``detect.occurrence_interval_minutes``). The limit is applied to the *occurrence times*, not to
when a note goes out, so the ticket reads the same whether it existed already or was filed minutes
later (repeats seen while the prompt was open are held, then posted as if the ticket had been there):

- a repeat outside any window is a note of its own, at once, and opens a window of ``interval``;
- repeats inside the window are held together; when it ends they become one note carrying their
  count, and the next window starts there. ``interval`` 0: one note per occurrence.

So an error every few hours gives a note per occurrence, a thousand a minute one note per interval
saying how many. A closed group is a :class:`RepeatBatch`; it gets its outbox report id when it is
closed, so queuing it is idempotent: the core worker writes the bundle under that id and then marks
the batch queued, and a crash in between finds the bundle instead of writing a second one. The
tracker's ``add_occurrence`` skips a note already posted (the report's idempotency key), so a retry
never posts twice, and a tracker that is down only delays the note (the outbox retries).

Batches wait in ``fingerprints.sqlite3`` until the fingerprint has a ticket, at most
:data:`MAX_WAITING` per fingerprint (beyond that the newest absorbs the next: counts are never lost).
"""

from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from reporter_app.clock import parse_utc_iso, utc_iso
from reporter_app.detect.dedup import FingerprintMap
from reporter_app.trackers.base import TicketRef

MAX_WAITING = 20  # batches kept per fingerprint while it has no ticket (a prompt dismissed for days)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS repeat_window (
    fingerprint TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    impact TEXT NOT NULL DEFAULT '',
    ends TEXT,
    held_count INTEGER NOT NULL DEFAULT 0,
    held_first TEXT,
    held_last TEXT,
    held_total INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS repeat_batch (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    fingerprint TEXT NOT NULL,
    count INTEGER NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    total INTEGER NOT NULL,
    report_id TEXT NOT NULL UNIQUE,
    queued INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS repeat_batch_waiting ON repeat_batch (queued, fingerprint);
"""


# ---------------------------------------------------------------- the rule (pure)


@dataclass(frozen=True)
class Span:
    """Occurrences that go into one note."""

    count: int
    first_seen: datetime
    last_seen: datetime
    total: int  # occurrences on this installation up to last_seen (what the note calls "on this installation")

    def plus(self, at: datetime, total: int) -> Span:
        return Span(self.count + 1, self.first_seen, at, total)


@dataclass(frozen=True)
class Window:
    """One fingerprint's state: no note before ``ends``; the repeats held until then."""

    ends: datetime | None = None
    held: Span | None = None


def close_due(window: Window, now: datetime, interval: timedelta) -> tuple[Window, list[Span]]:
    """The held repeats as one note once their window is over; the next window starts where it ended."""
    if window.held is None or window.ends is None or now < window.ends:
        return window, []
    return Window(ends=window.ends + interval, held=None), [window.held]


def add_repeat(window: Window, at: datetime, total: int, interval: timedelta) -> tuple[Window, list[Span]]:
    """One more repeat at ``at``: the notes it closes (its own, when it opens a window)."""
    window, closed = close_due(window, at, interval)
    if window.ends is None or at >= window.ends:
        return Window(ends=at + interval), [*closed, Span(1, at, at, total)]
    held = window.held.plus(at, total) if window.held is not None else Span(1, at, at, total)
    return Window(ends=window.ends, held=held), closed


# ---------------------------------------------------------------- stored


@dataclass(frozen=True)
class RepeatBatch:
    """A closed group, waiting for its fingerprint's ticket or queued as a "+1" report."""

    seq: int
    fingerprint: str
    span: Span
    report_id: str
    title: str
    impact: str  # an Impact value, or "" for the configured default


@dataclass(frozen=True)
class ReadyRepeat:
    batch: RepeatBatch
    ticket: TicketRef


class RepeatLedger:
    """The windows and batches, in the fingerprint map's SQLite file (one transaction per change)."""

    def __init__(self, fingerprints: FingerprintMap, interval: timedelta) -> None:
        if interval < timedelta(0):
            raise ValueError(f"the occurrence interval cannot be negative: {interval}")
        self.fingerprints = fingerprints
        self.interval = interval
        with fingerprints.connect() as conn:
            conn.executescript(_SCHEMA)

    def follow(self, fingerprint: str, title: str, impact: str = "") -> None:
        """From now on the repeats of ``fingerprint`` are counted for notes (an alert was raised for it)."""
        with self.fingerprints.connect() as conn:
            conn.execute("INSERT INTO repeat_window (fingerprint, title, impact) VALUES (?, ?, ?) "
                         "ON CONFLICT(fingerprint) DO NOTHING", (fingerprint, title, impact))

    def follows(self, fingerprint: str) -> bool:
        with self.fingerprints.connect() as conn:
            row = conn.execute("SELECT 1 FROM repeat_window WHERE fingerprint = ?", (fingerprint,)).fetchone()
        return row is not None

    def add(self, fingerprint: str, at: datetime, total: int) -> list[Span]:
        """Record a repeat of a followed fingerprint; returns the notes it closed."""
        with self.fingerprints.connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                row = conn.execute("SELECT ends, held_count, held_first, held_last, held_total FROM repeat_window "
                                   "WHERE fingerprint = ?", (fingerprint,)).fetchone()
                if row is None:
                    raise KeyError(f"{fingerprint} is not followed")
                window, closed = add_repeat(_window(row), at, total, self.interval)
                self._store(conn, fingerprint, window, closed)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return closed

    def close_due(self, now: datetime) -> int:
        """Close every window that is over (the watcher calls it each round); returns the notes made."""
        made = 0
        with self.fingerprints.connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                rows = conn.execute("SELECT fingerprint, ends, held_count, held_first, held_last, held_total "
                                    "FROM repeat_window WHERE held_count > 0 AND ends <= ?",
                                    (utc_iso(now),)).fetchall()
                for row in rows:
                    window, closed = close_due(_window(row[1:]), now, self.interval)
                    self._store(conn, row[0], window, closed)
                    made += len(closed)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return made

    def next_close(self) -> datetime | None:
        """When the earliest held group becomes a note (the watcher sleeps no longer than that)."""
        with self.fingerprints.connect() as conn:
            row = conn.execute("SELECT MIN(ends) FROM repeat_window WHERE held_count > 0").fetchone()
        return parse_utc_iso(row[0]) if row and row[0] else None

    def ready(self) -> list[ReadyRepeat]:
        """Batches not queued yet whose fingerprint has a ticket, oldest first."""
        with self.fingerprints.connect() as conn:
            rows = conn.execute(
                "SELECT b.seq, b.fingerprint, b.count, b.first_seen, b.last_seen, b.total, b.report_id, "
                "COALESCE(w.title, ''), COALESCE(w.impact, ''), t.backend, t.key, t.url "
                "FROM repeat_batch b JOIN fingerprint_ticket t ON t.fingerprint = b.fingerprint "
                "LEFT JOIN repeat_window w ON w.fingerprint = b.fingerprint "
                "WHERE b.queued = 0 ORDER BY b.seq").fetchall()
        return [ReadyRepeat(RepeatBatch(seq=r[0], fingerprint=r[1],
                                        span=Span(r[2], parse_utc_iso(r[3]), parse_utc_iso(r[4]), r[5]),
                                        report_id=r[6], title=r[7], impact=r[8]),
                            TicketRef(backend=r[9], key=r[10], url=r[11]))
                for r in rows]

    def has_ready(self) -> bool:
        with self.fingerprints.connect() as conn:
            row = conn.execute("SELECT 1 FROM repeat_batch b JOIN fingerprint_ticket t "
                               "ON t.fingerprint = b.fingerprint WHERE b.queued = 0 LIMIT 1").fetchone()
        return row is not None

    def waiting(self, fingerprint: str) -> list[Span]:
        """Batches of ``fingerprint`` not queued yet (for tests and `doctor`-like views)."""
        with self.fingerprints.connect() as conn:
            rows = conn.execute("SELECT count, first_seen, last_seen, total FROM repeat_batch "
                                "WHERE fingerprint = ? AND queued = 0 ORDER BY seq", (fingerprint,)).fetchall()
        return [Span(r[0], parse_utc_iso(r[1]), parse_utc_iso(r[2]), r[3]) for r in rows]

    def mark_queued(self, seq: int) -> None:
        with self.fingerprints.connect() as conn:
            conn.execute("UPDATE repeat_batch SET queued = 1 WHERE seq = ?", (seq,))

    # ------------------------------------------------------------ inside a transaction

    def _store(self, conn: sqlite3.Connection, fingerprint: str, window: Window, closed: list[Span]) -> None:
        held = window.held
        conn.execute(
            "UPDATE repeat_window SET ends = ?, held_count = ?, held_first = ?, held_last = ?, held_total = ? "
            "WHERE fingerprint = ?",
            (utc_iso(window.ends) if window.ends else None, held.count if held else 0,
             utc_iso(held.first_seen) if held else None, utc_iso(held.last_seen) if held else None,
             held.total if held else 0, fingerprint))
        for span in closed:
            self._insert_batch(conn, fingerprint, span)

    @staticmethod
    def _insert_batch(conn: sqlite3.Connection, fingerprint: str, span: Span) -> None:
        has_ticket = conn.execute("SELECT 1 FROM fingerprint_ticket WHERE fingerprint = ?",
                                  (fingerprint,)).fetchone() is not None
        if not has_ticket:
            waiting = conn.execute("SELECT seq FROM repeat_batch WHERE fingerprint = ? AND queued = 0 "
                                   "ORDER BY seq DESC", (fingerprint,)).fetchall()
            if len(waiting) >= MAX_WAITING:
                # No ticket yet and no end in sight: widen the newest batch rather than grow the file.
                conn.execute("UPDATE repeat_batch SET count = count + ?, last_seen = ?, total = ? WHERE seq = ?",
                             (span.count, utc_iso(span.last_seen), span.total, waiting[0][0]))
                return
        conn.execute("INSERT INTO repeat_batch (fingerprint, count, first_seen, last_seen, total, report_id) "
                     "VALUES (?, ?, ?, ?, ?, ?)",
                     (fingerprint, span.count, utc_iso(span.first_seen), utc_iso(span.last_seen), span.total,
                      uuid.uuid4().hex))


def _window(row: Any) -> Window:
    ends, count, first, last, total = row
    held = Span(int(count), parse_utc_iso(first), parse_utc_iso(last), int(total)) if count else None
    return Window(ends=parse_utc_iso(ends) if ends else None, held=held)
