"""The one way the GUI runs work off its thread (like Anki's QueryOp).

`run_in_background(parent, op, success, failure)`: `op()` runs on a QThreadPool worker; its
result (or exception) comes back by a queued signal, so `success`/`failure` always run on the
GUI thread and may touch widgets. If `parent` is destroyed first, the callbacks are dropped.

`op`, its result, `success` and `failure` are released on the GUI thread too: a closure (or a result) holding the
last reference to a QObject with timers (a ReportFlow whose caller has let go) would otherwise destroy it on the
worker thread ("Timers cannot be stopped from another thread", or a crash). So the worker hands everything over
through the relay, which only the GUI thread lets go of, and keeps no reference of its own when it signals.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)
T = TypeVar("T")

# Jobs whose result has not been delivered yet: keeps the relay objects alive (Python would
# otherwise collect them while the worker still runs).
_in_flight: set[_Relay] = set()


class _Relay(QObject):
    """Lives on the GUI thread. The worker emits; because the receiving slots belong to this
    object, Qt queues the call to the GUI thread (a bare Python callable gives no such guarantee)."""

    finished = Signal()
    failed = Signal()

    def __init__(self, op: Callable[[], Any], success: Callable[[Any], None] | None,
                 failure: Callable[[BaseException], None] | None) -> None:
        super().__init__()
        self.op: Callable[[], Any] | None = op  # the worker borrows it; released here, on the GUI thread
        self.outcome: Any = None  # the result, or the exception, set by the worker before it signals
        self._success = success
        self._failure = failure
        self.alive = True
        self.finished.connect(self._on_finished)
        self.failed.connect(self._on_failed)

    def _release(self) -> tuple[Any, Callable[[Any], None] | None, Callable[[BaseException], None] | None]:
        _in_flight.discard(self)
        outcome, success, failure = self.outcome, self._success, self._failure
        self.op = self.outcome = self._success = self._failure = None
        return outcome, success, failure

    @Slot()
    def _on_finished(self) -> None:
        result, success, _ = self._release()
        if self.alive and success is not None:
            success(result)

    @Slot()
    def _on_failed(self) -> None:
        exc, _, failure = self._release()
        if self.alive:
            (failure or _log_failure)(exc)

    def parent_gone(self, *_: object) -> None:
        self.alive = False


class _Job(QRunnable):
    def __init__(self, relay: _Relay) -> None:
        super().__init__()
        self._relay = relay  # holds the op until the GUI thread has the result

    def run(self) -> None:
        relay = self._relay
        op = relay.op
        ok = False
        try:
            assert op is not None
            relay.outcome = op()
            ok = True
        except BaseException as exc:  # noqa: BLE001 - every failure goes back to the GUI thread
            exc.__traceback_text__ = traceback.format_exc()  # type: ignore[attr-defined]
            relay.outcome = exc
        del op  # before the signal: the relay's references are then the last ones, dropped on the GUI thread
        (relay.finished if ok else relay.failed).emit()


def _log_failure(exc: BaseException) -> None:
    log.error("background task failed: %s", getattr(exc, "__traceback_text__", exc))


def run_in_background(
    parent: QObject | None,
    op: Callable[[], T],
    success: Callable[[T], None] | None = None,
    failure: Callable[[BaseException], None] | None = None,
    pool: QThreadPool | None = None,
) -> None:
    """Run `op` on a worker; call `success(result)` or `failure(exc)` on the GUI thread."""
    relay = _Relay(op, success, failure)
    _in_flight.add(relay)
    if parent is not None:
        # A closed window must not get callbacks on its deleted C++ object.
        parent.destroyed.connect(relay.parent_gone)
    (pool or QThreadPool.globalInstance()).start(_Job(relay))
