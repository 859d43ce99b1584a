"""Every call into the core (`AppContext`) runs on one dedicated worker thread, in order.

Why one thread: the outbox holds a single SQLite connection, which Python ties to the thread
that opened it, and the design wants one outbox worker sending in order anyway. The thread
never expires, so it is always the same one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from PySide6.QtCore import QObject, QThreadPool

from ui.background import run_in_background

T = TypeVar("T")


class CoreWorker(QObject):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self.pool.setExpiryTimeout(-1)  # keep the same thread: the SQLite connection belongs to it

    def run(self, parent: QObject | None, op: Callable[[], T], success: Callable[[T], None] | None = None,
            failure: Callable[[BaseException], None] | None = None) -> None:
        run_in_background(parent, op, success, failure, pool=self.pool)

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Wait for queued core work (a report being written) before the app exits."""
        self.pool.clear()  # drop what has not started; a started write finishes
        return self.pool.waitForDone(timeout_ms)
