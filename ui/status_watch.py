"""The status poller of the running app: follow filed tickets, announce what changed, open it on click.

Threads (docs/ui.md): a single-shot QTimer on the GUI thread decides *when*; each round
(`Tracking.sync_outbox()` + `Tracking.poll()`) runs on the core worker, like every other
`AppContext` call, and comes back by signal. The GUI thread only groups the changes
(`group_notices`, pure) and shows them.

When: the timer sleeps until the store's `next_due_at()` (the adaptive cadence of
reporter_app/tracking/cadence.py decides that, not this module), but never longer than
`LOCAL_SYNC_S`: a report filed by another process (`reporter-app report`) is only known to this
app through the outbox, and following it costs no tracker request (a freshly followed ticket is
due at once, so that same round looks at it). A report this app files is looked at
`AFTER_FILED_MS` later.

Errors: a tracker that cannot be reached is the poller's business (it records the failure on the
ticket and backs off); here it is one INFO line per round, and never a notification, so an
offline laptop is not flooded. Anything unexpected is logged the same way and retried later.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from ui.core_worker import CoreWorker

if TYPE_CHECKING:  # the tracking package is imported on the worker, after the tray is up
    from reporter_app.tracking.changes import TicketChange
    from reporter_app.tracking.notify import Notice
    from reporter_app.tracking.store import TrackedTicket

log = logging.getLogger(__name__)
LOCAL_SYNC_S = 15.0  # longest sleep: how soon a report filed by the CLI is followed (no tracker request)
MIN_SLEEP_S = 1.0  # a ticket due "now" again (clock skew, a racing CLI) must not spin the worker
AFTER_FILED_MS = 1000  # the outbox marks the row filed before it signals; a moment later is plenty
OPEN_LINK = "status-notice:open"


class _Clock(Protocol):
    def now(self) -> datetime: ...


class _Store(Protocol):
    def due(self, now: datetime) -> list[TrackedTicket]: ...

    def get(self, backend: str, key: str) -> TrackedTicket | None: ...

    def next_due_at(self) -> datetime | None: ...


class TrackingLike(Protocol):
    """What a round needs of `reporter_app.tracking.service.Tracking` (narrow, so tests inject a fake)."""

    @property
    def store(self) -> _Store: ...

    @property
    def clock(self) -> _Clock: ...

    def sync_outbox(self) -> int: ...

    def poll(self) -> list[TicketChange]: ...


@dataclass(frozen=True)
class PollRound:
    """What one round found, computed on the worker so the GUI thread reads plain values."""

    changes: list[TicketChange]
    looked: int  # tickets that were due and asked about
    errors: tuple[str, ...]  # distinct failures recorded on those tickets this round
    next_in: float | None  # seconds until the next ticket is due; None: nothing followed


def _trace(event: str, detail: str = "") -> None:
    from ui.main import trace  # ui.main imports this module: resolved at call time

    trace(event, detail)


def sleep_seconds(next_in: float | None) -> float:
    """How long the timer sleeps after a round: until the next due ticket, within [MIN_SLEEP_S, LOCAL_SYNC_S]."""
    if next_in is None:
        return LOCAL_SYNC_S
    return min(LOCAL_SYNC_S, max(MIN_SLEEP_S, next_in))


def run_round(tracking: TrackingLike) -> PollRound:
    """Core worker: follow new filings, look at what is due, hand out each change once."""
    tracking.sync_outbox()
    due = tracking.store.due(tracking.clock.now())
    changes = tracking.poll()  # syncs again (cheap) and looks at exactly what is due now
    errors: set[str] = set()
    for ticket in due:
        after = tracking.store.get(ticket.backend, ticket.key)
        if after is not None and after.last_error:
            errors.add(after.last_error)
    next_due = tracking.store.next_due_at()
    next_in = None if next_due is None else (next_due - tracking.clock.now()).total_seconds()
    return PollRound(changes=changes, looked=len(due), errors=tuple(sorted(errors)), next_in=next_in)


class StatusWatch(QObject):
    """Built by the tray app; `start()` once the tray is up, `stop()` on quit."""

    round_done = Signal(object)  # PollRound
    notice_shown = Signal(object)  # Notice

    def __init__(self, ctx: Any, core: CoreWorker, face: Any, open_report: Callable[[str, str], None],
                 parent: QObject | None = None,
                 tracking_factory: Callable[[], TrackingLike] | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.core = core
        self.face = face
        self._open_report = open_report  # (report id, ticket key): My reports at that report
        self._factory = tracking_factory or self._real_tracking
        self._tracking: TrackingLike | None = None  # built on the worker: its SQLite store is opened there
        self._busy = False
        self._again = False
        self._stopped = True
        self._last_error = ""
        self._clickable: Notice | None = None  # the latest notice shown: what a click opens
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.poll_now)
        tray = getattr(face, "tray", None)
        if tray is not None:
            # One messageClicked for every balloon: act only while ours is the latest one shown.
            tray.messageClicked.connect(self._message_clicked)
        window = getattr(face, "window", None)
        if window is not None:
            window.message.linkActivated.connect(self._link_activated)
            window.message.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse
                                                   | Qt.TextInteractionFlag.LinksAccessibleByKeyboard)

    def _real_tracking(self) -> TrackingLike:
        from reporter_app.tracking.service import Tracking

        return Tracking(self.ctx)

    # ------------------------------------------------------------ scheduling (GUI thread)

    def start(self) -> None:
        self._stopped = False
        self.poll_now()

    def stop(self) -> None:
        """On quit: no further rounds; a round already on the worker finishes and is ignored."""
        self._stopped = True
        self.timer.stop()

    def report_filed(self) -> None:
        """This app just filed a report: follow it shortly, rather than at the next due time."""
        if not self._stopped:
            self._schedule(AFTER_FILED_MS / 1000)

    def poll_now(self) -> None:
        if self._stopped:
            return
        if self._busy:
            self._again = True  # one more round right after this one
            return
        self._busy = True
        self.timer.stop()
        self.core.run(self, self._round, self._round_done, self._round_failed)

    def _schedule(self, seconds: float) -> None:
        # Sooner wins: a pending far-off wake-up is moved up, never pushed back.
        ms = max(0, int(seconds * 1000))
        if self.timer.isActive() and self.timer.remainingTime() <= ms:
            return
        self.timer.start(ms)

    # ------------------------------------------------------------ a round

    def _round(self) -> PollRound:
        """Core worker."""
        if self._tracking is None:
            self._tracking = self._factory()
        return run_round(self._tracking)

    def _round_done(self, result: PollRound) -> None:
        _trace("status-poll", f"looked={result.looked} changes={len(result.changes)} "
                              f"next={-1 if result.next_in is None else round(result.next_in)}")
        if result.errors:
            self._log_error("; ".join(result.errors))
        elif result.looked:
            self._last_error = ""
        self._finish(sleep_seconds(result.next_in))
        if result.changes and not self._stopped:
            self._announce(result.changes)
        self.round_done.emit(result)

    def _round_failed(self, exc: BaseException) -> None:
        self._log_error(f"{type(exc).__name__}: {exc}")
        # The store could not even say when the next ticket is due: try again after one base interval.
        self._finish(float(self.ctx.config.get("status.poll_interval_seconds") or LOCAL_SYNC_S))

    def _finish(self, sleep: float) -> None:
        self._busy = False
        if self._stopped:
            return
        if self._again:
            self._again = False
            self._schedule(0)
            return
        self._schedule(sleep)

    def _log_error(self, message: str) -> None:
        # INFO, not a notice: being offline is normal for a laptop. The same failure once, not every round.
        if message != self._last_error:
            log.info("ticket status not updated (retrying when next due): %s", message)
        self._last_error = message

    # ------------------------------------------------------------ notices

    def _announce(self, changes: Sequence[TicketChange]) -> None:
        from reporter_app.tracking.notify import group_notices

        # The fallback window has a single message line: the whole burst becomes one summary there.
        window_only = getattr(self.face, "tray", None) is None
        notices = group_notices(changes, max_notices=1 if window_only else 3)
        if not self.ctx.config.get("status.notify"):
            log.info("%d ticket change(s) not announced: status.notify is off", len(changes))
            return
        for notice in notices:
            self.show_notice(notice)

    def show_notice(self, notice: Notice) -> None:
        self._clickable = notice
        self.face.notify(notice.title, notice.body)
        window = getattr(self.face, "window", None)
        if getattr(self.face, "tray", None) is None and window is not None:
            # No clickable balloon without a tray host: the message line carries a link instead.
            text = html.escape(f"{notice.title}: {notice.body}").replace("\n", "<br>")
            # AutoText (the label's default) reads this as rich text and the next plain message as plain.
            window.message.setText(f'{text}<br><a href="{OPEN_LINK}">Open in My reports</a>')
            window.adjustSize()  # a top-level window does not grow by itself: the link would be cut off
        _trace("status-notice", notice.title)
        self.notice_shown.emit(notice)

    def _message_clicked(self) -> None:
        latest = getattr(self.face, "last_title", None)
        if self._clickable is not None and latest == self._clickable.title:
            self.open_clicked()

    def _link_activated(self, link: str) -> None:
        if link == OPEN_LINK:
            self.open_clicked()

    def open_clicked(self) -> None:
        """My reports, with the notice's (first) report selected."""
        notice = self._clickable
        if notice is None:
            return
        report_id = next((r for r in notice.report_ids if r), "")
        self._open_report(report_id, notice.keys[0] if notice.keys else "")
