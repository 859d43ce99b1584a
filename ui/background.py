"""The one way the GUI runs work off its thread (like Anki's QueryOp).

`run_in_background(parent, op, success, failure)`: `op()` runs on a QThreadPool worker; its
result (or exception) comes back by a queued signal, so `success`/`failure` always run on the
GUI thread and may touch widgets. If `parent` is destroyed first, the callbacks are dropped.
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

    finished = Signal(object)
    failed = Signal(object)

    def __init__(self, success: Callable[[Any], None] | None, failure: Callable[[BaseException], None] | None) -> None:
        super().__init__()
        self._success = success
        self._failure = failure
        self.alive = True
        self.finished.connect(self._on_finished)
        self.failed.connect(self._on_failed)

    @Slot(object)
    def _on_finished(self, result: Any) -> None:
        _in_flight.discard(self)
        if self.alive and self._success is not None:
            self._success(result)

    @Slot(object)
    def _on_failed(self, exc: BaseException) -> None:
        _in_flight.discard(self)
        if self.alive:
            (self._failure or _log_failure)(exc)

    def parent_gone(self, *_: object) -> None:
        self.alive = False


class _Job(QRunnable):
    def __init__(self, op: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self._op = op
        self._relay = relay

    def run(self) -> None:
        try:
            result = self._op()
        except BaseException as exc:  # noqa: BLE001 - every failure goes back to the GUI thread
            exc.__traceback_text__ = traceback.format_exc()  # type: ignore[attr-defined]
            self._relay.failed.emit(exc)
        else:
            self._relay.finished.emit(result)


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
    relay = _Relay(success, failure)
    _in_flight.add(relay)
    if parent is not None:
        # A closed window must not get callbacks on its deleted C++ object.
        parent.destroyed.connect(relay.parent_gone)
    (pool or QThreadPool.globalInstance()).start(_Job(op, relay))
