"""The one outbox worker: sends due reports in order, classifies failures, never files twice.

Exactly-once filing rests on three facts: the idempotency key is in the ticket; a row is
marked `sending` (attempt counted) before the tracker is called; and any attempt after the
first asks the tracker `find(key)` before `create`. So a crash anywhere, even between "ticket
created" and "row updated", ends in the ticket being found, not filed again.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from reporter_app.bundle import Bundle, BundleError, read_bundle
from reporter_app.clock import Clock, SystemClock
from reporter_app.outbox import Outbox, OutboxEntry
from reporter_app.trackers.base import CredentialsError, RefusedError, TicketRef, Tracker, TransientError

if TYPE_CHECKING:
    from reporter_app.detect.dedup import FingerprintMap

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BackoffPolicy:
    base_seconds: float = 5.0
    max_seconds: float = 3600.0
    # A tracker that asks for more than a day is treated as "a day": the user can still retry now.
    max_retry_after_seconds: float = 86400.0

    def delay(self, attempts: int, retry_after: float | None, rng: random.Random) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after_seconds)
        ceiling = min(self.max_seconds, self.base_seconds * (2 ** max(attempts - 1, 0)))
        # "Equal jitter": at least half the exponential step, so retries never bunch up at zero.
        return ceiling / 2 + rng.uniform(0, ceiling / 2)


class SendResult(StrEnum):
    FILED = "filed"
    FOUND = "found"  # an earlier attempt had filed it: recorded, not filed again
    OCCURRENCE = "occurrence"  # same root cause as an existing ticket: added there as a "+1"
    WAITING_RETRY = "waiting_retry"
    NEEDS_ATTENTION = "needs_attention"


@dataclass(frozen=True)
class SendOutcome:
    entry: OutboxEntry
    result: SendResult
    ticket: TicketRef | None = None
    message: str = ""


# Hooks for the crash-safety tests: called at the named point with the entry being sent.
CrashPoint = Callable[[str, OutboxEntry], None]


class OutboxSender:
    def __init__(
        self,
        outbox: Outbox,
        tracker_for: Callable[[str], Tracker],
        *,
        clock: Clock | None = None,
        policy: BackoffPolicy | None = None,
        rng: random.Random | None = None,
        crash_point: CrashPoint | None = None,
        fingerprints: FingerprintMap | None = None,
    ) -> None:
        self.outbox = outbox
        self.tracker_for = tracker_for
        self.clock = clock or SystemClock()
        self.policy = policy or BackoffPolicy()
        self.rng = rng or random.Random()
        self._crash_point = crash_point or (lambda _point, _entry: None)
        self.fingerprints = fingerprints

    def send_next(self) -> SendOutcome | None:
        entry = self.outbox.claim_next()
        if entry is None:
            return None
        return self._send(entry)

    def send_due(self, limit: int | None = None) -> list[SendOutcome]:
        outcomes: list[SendOutcome] = []
        while limit is None or len(outcomes) < limit:
            outcome = self.send_next()
            if outcome is None:
                break
            outcomes.append(outcome)
        return outcomes

    def _send(self, entry: OutboxEntry) -> SendOutcome:
        try:
            bundle = read_bundle(entry.bundle_path)
        except BundleError as exc:
            return self._attention(entry, f"the report on disk cannot be read: {exc}")
        try:
            tracker = self.tracker_for(entry.backend)
            self._crash_point("before_send", entry)
            ref, result = self._file(tracker, entry, bundle)
            self._crash_point("after_create", entry)
        except TransientError as exc:
            delay = self.policy.delay(entry.attempts, exc.retry_after, self.rng)
            self.outbox.mark_waiting_retry(entry.id, exc.message, delay)
            log.info("report %s waits %.0f s before retrying: %s", entry.id, delay, exc.message)
            return SendOutcome(entry, SendResult.WAITING_RETRY, message=exc.message)
        except (CredentialsError, RefusedError) as exc:
            return self._attention(entry, exc.message)
        except ValueError as exc:  # the tracker cannot even be built: unknown backend, bad settings
            return self._attention(entry, str(exc))
        except Exception as exc:  # our own bug: keep the report, retry later, leave a trace
            log.exception("unexpected error while sending report %s", entry.id)
            message = f"internal error: {type(exc).__name__}: {exc}"
            self.outbox.mark_waiting_retry(entry.id, message, self.policy.delay(entry.attempts, None, self.rng))
            return SendOutcome(entry, SendResult.WAITING_RETRY, message=message)
        # The bundle's own record first: if the database is lost, it is rebuilt as filed.
        try:
            bundle.record_reported_to(f"{ref.backend}: {ref.key} {ref.url}".rstrip())
        except OSError as exc:
            log.error("report %s filed as %s, but its bundle could not record it: %s", entry.id, ref.key, exc)
        if bundle.report.fingerprint and self.fingerprints is not None:
            try:
                self.fingerprints.link(bundle.report.fingerprint, ref, self.clock.now())
            except Exception as exc:  # the map only saves a lookup next time; the report is filed
                log.error("fingerprint map not updated for %s: %s", ref.key, exc)
        self._crash_point("before_mark_filed", entry)
        self.outbox.mark_filed(entry.id, ref.key, ref.url)
        return SendOutcome(entry, result, ticket=ref)

    def _file(self, tracker: Tracker, entry: OutboxEntry, bundle: Bundle) -> tuple[TicketRef, SendResult]:
        report = bundle.report
        if entry.attempts > 1:  # an earlier attempt may have got through before we lost track of it
            ref = tracker.find(entry.idempotency_key)
            if ref is not None:
                return ref, SendResult.FOUND
        if report.fingerprint and report.merge_duplicates:
            ref = self.fingerprints.ticket_for(report.fingerprint) if self.fingerprints else None
            ref = ref or tracker.find(report.fingerprint)
            if ref is not None:
                tracker.add_occurrence(ref, report, bundle)
                return ref, SendResult.OCCURRENCE
        return tracker.create(report, bundle), SendResult.FILED

    def _attention(self, entry: OutboxEntry, message: str) -> SendOutcome:
        self.outbox.mark_needs_attention(entry.id, message)
        log.info("report %s needs attention: %s", entry.id, message)
        return SendOutcome(entry, SendResult.NEEDS_ATTENTION, message=message)
