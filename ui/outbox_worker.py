"""Sends due reports: on a timer, after each submit, and on "Retry". Never on the GUI thread."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from ui.core_worker import CoreWorker

log = logging.getLogger(__name__)
SEND_INTERVAL_MS = 30_000


@dataclass(frozen=True)
class SendRound:
    """What one round did, computed on the worker so the GUI thread only reads plain values."""

    filed: list[tuple[str, str, str]]  # (ticket key, url, title)
    needs_attention: list[tuple[str, str]]  # (title, the tracker's message)
    pending: int
    worker_elsewhere: bool  # another process (a CLI run) holds the worker lock


class OutboxWorker(QObject):
    report_filed = Signal(str, str, str)  # key, url, title
    report_needs_attention = Signal(str, str)  # title, message
    pending_changed = Signal(int)

    def __init__(self, ctx: Any, core: CoreWorker, parent: QObject | None = None,
                 interval_ms: int = SEND_INTERVAL_MS) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._core = core
        self._busy = False
        self._again = False
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.kick)

    def start(self) -> None:
        self._timer.start()
        self.kick()

    def stop(self) -> None:
        self._timer.stop()

    def kick(self) -> None:
        """Send what is due now. A kick during a round runs one more round after it."""
        if self._busy:
            self._again = True
            return
        self._busy = True
        self._core.run(self, self._round, self._round_done, self._round_failed)

    def retry(self, report_id: str | None = None) -> None:
        def op() -> None:
            self._ctx.outbox.retry(report_id)

        self._core.run(self, op, lambda _: self.kick())

    def _round(self) -> SendRound:
        outcomes = self._ctx.send_pending()
        filed, attention = [], []
        for outcome in outcomes or []:
            result = str(outcome.result)
            if result in ("filed", "found") and outcome.ticket is not None:
                filed.append((outcome.ticket.key, outcome.ticket.url, outcome.entry.title))
            elif result == "needs_attention":
                attention.append((outcome.entry.title, outcome.message))
        return SendRound(filed, attention, self._ctx.outbox.pending_count(), outcomes is None)

    def _round_done(self, result: SendRound) -> None:
        for key, url, title in result.filed:
            self.report_filed.emit(key, url, title)
        for title, message in result.needs_attention:
            self.report_needs_attention.emit(title, message)
        self.pending_changed.emit(result.pending)
        self._finish_round()

    def _round_failed(self, exc: BaseException) -> None:
        log.error("sending the outbox failed: %s", exc)
        self._finish_round()

    def _finish_round(self) -> None:
        self._busy = False
        if self._again:
            self._again = False
            self.kick()
