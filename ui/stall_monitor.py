"""Opt-in GUI-thread stall meter (REPORTER_APP_STALL_METER=1): how late a fast timer fires is how long the event loop
was blocked. Prints `stall <max_ms> <ticks>` on stdout once a second, so tests and bench/ can read the worst stall
without instrumenting the widgets. Off (not even created) in normal use.
"""

from __future__ import annotations

import os
import time

from PySide6.QtCore import QObject, Qt, QTimer

INTERVAL_MS = 10  # fine enough to see a 50 ms stall, cheap enough not to cause one
REPORT_MS = 1000


class StallMonitor(QObject):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.max_stall_ms = 0.0
        self.ticks = 0
        self._last = time.monotonic()
        self._tick = QTimer(self)
        self._tick.setTimerType(Qt.TimerType.PreciseTimer)
        self._tick.setInterval(INTERVAL_MS)
        self._tick.timeout.connect(self._on_tick)
        self._report = QTimer(self)
        self._report.setInterval(REPORT_MS)
        self._report.timeout.connect(self._print)

    def start(self) -> None:
        self._last = time.monotonic()
        self._tick.start()
        self._report.start()

    def _on_tick(self) -> None:
        now = time.monotonic()
        # Lateness beyond the interval: the time the loop could not run our timer (or anything else).
        self.max_stall_ms = max(self.max_stall_ms, (now - self._last) * 1000 - INTERVAL_MS)
        self._last = now
        self.ticks += 1

    def _print(self) -> None:
        print(f"stall {self.max_stall_ms:.1f} {self.ticks}", flush=True)


def start_if_traced(parent: QObject) -> StallMonitor | None:
    # Its own switch, not REPORTER_APP_TRACE: a 10 ms timer costs ~1% of a core and would spoil idle-CPU figures.
    if os.environ.get("REPORTER_APP_STALL_METER") != "1":
        return None
    monitor = StallMonitor(parent)
    monitor.start()
    return monitor
