"""When a followed ticket is looked at next: often while it is fresh and urgent, rarely once it is old and closed.

The base is `status.poll_interval_seconds` (default 300 s). With 500 tickets the poller still
sends one batched request per backend per round; the cadence decides how many tickets ride in
it, so a quiet tracker is asked about little, and an old closed ticket about once a day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from reporter_app.trackers.base import TicketState
from reporter_app.tracking.store import TrackedTicket

# A P1 is worth a look twice as often as the base; a P4 half as often.
PRIORITY_FACTOR = {"P1": 0.5, "P2": 0.75, "P3": 1.0, "P4": 2.0}
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Cadence:
    base_seconds: float = 300.0
    min_seconds: float = 30.0  # the config's minimum: a tracker is a shared service
    max_seconds: float = 86400.0

    def interval(self, ticket: TrackedTicket, now: datetime) -> timedelta:
        if ticket.missing_since is not None:
            return timedelta(seconds=self.max_seconds)
        factor = PRIORITY_FACTOR.get(ticket.priority, 1.0) * self._age_factor(ticket, now)
        if ticket.state == TicketState.CLOSED:
            closed_for = now - (ticket.closed_at or now)
            # A reopen usually comes within weeks; after a month a daily look is plenty.
            factor *= 12 if closed_for < 30 * DAY else self.max_seconds / self.base_seconds
        elif ticket.state == TicketState.RESOLVED:
            factor *= 3  # waiting for a release or a reopen; both are slow
        factor *= 2 ** min(ticket.failures, 10)  # our own backoff when the tracker keeps failing
        seconds = min(self.max_seconds, max(self.min_seconds, self.base_seconds * factor))
        return timedelta(seconds=seconds)

    def next_poll_at(self, ticket: TrackedTicket, now: datetime, retry_after: float | None = None) -> datetime:
        due = now + self.interval(ticket, now)
        if retry_after is not None:
            due = max(due, now + timedelta(seconds=retry_after))  # the tracker's Retry-After wins over our hurry
        return due

    @staticmethod
    def _age_factor(ticket: TrackedTicket, now: datetime) -> float:
        last_activity = max(t for t in (ticket.snapshot.updated_at, ticket.filed_at, ticket.followed_at) if t)
        quiet = now - last_activity
        if quiet < DAY:
            return 1.0
        if quiet < 7 * DAY:
            return 2.0
        if quiet < 30 * DAY:
            return 4.0
        return 8.0
