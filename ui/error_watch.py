"""Error detection in the tray app: watch the logs off the GUI thread, prompt, open the pre-filled form.

Threads (docs/ui.md):
- a dedicated daemon thread runs `DetectionService.detect()` in a loop. It sleeps in inotify (or
  polls) between rounds, so it can't share a pool: it would hold a pool thread forever.
- each alert goes, by a queued signal, to the GUI thread, which hands `resolve()` (the dedup
  lookup in the tracker, and `ctx.submit` for `auto`) to the core worker like every other
  `AppContext` call.
- the result comes back to the GUI thread: `auto` -> the outbox is kicked and a notification says
  so; `prompt` -> "Error detected: <title> — Report it?". A click on the tray message (or, without
  a tray host, on "Report it…" in the small prompt window) opens the form pre-filled, with the
  "already reported" offer when the fingerprint is known.
- repeats of an error that has a ticket never prompt: the service counts them into "+1" notes
  (reporter_app/detect/repeats.py). When some are ready (each round checks; `ticket_filed` is
  called as soon as the outbox files a ticket), `post_repeats` queues them on the core worker
  and kicks the outbox, quietly: no notification for a "+1".
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from reporter_app.detect.service import Detection, DetectionService, Resolution
from reporter_app.model import Impact
from ui.core_worker import CoreWorker
from ui.icons import app_icon

log = logging.getLogger(__name__)
SNOOZE_MINUTES = 60.0  # "Not now": the same error stays quiet this long
RETRY_AFTER_FAILURE_S = 5.0


def _trace(event: str) -> None:
    from ui.main import trace  # ui.main imports this module: resolved at call time

    trace(event)


class _Relay(QObject):
    """Lives on the GUI thread; the watcher thread emits, Qt queues the call here."""

    detected = Signal(object)  # Detection
    repeats_ready = Signal()  # "+1" notes wait only to be queued
    failed = Signal(str)


class ErrorPrompt(QWidget):
    """Without a tray host there is no clickable notification: this small window is the prompt."""

    report_requested = Signal()
    snooze_requested = Signal()
    mute_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("Error detected")
        self.setWindowIcon(app_icon(True))
        self.setAccessibleName("Error detected")
        # Never steal the keyboard from what the reporter is typing elsewhere.
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        layout = QVBoxLayout(self)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Detected error")
        layout.addWidget(self.message)
        buttons = QHBoxLayout()
        self.report_button = QPushButton("&Report it…")
        self.report_button.setDefault(True)
        self.report_button.setAutoDefault(True)
        self.later_button = QPushButton("&Not now")
        self.later_button.setToolTip(f"Ask again if it happens after {SNOOZE_MINUTES:g} minutes")
        self.mute_button = QPushButton("&Don't ask about this error")
        buttons.addWidget(self.mute_button)
        buttons.addStretch(1)
        buttons.addWidget(self.later_button)
        buttons.addWidget(self.report_button)
        layout.addLayout(buttons)
        self.report_button.clicked.connect(self.report_requested)
        self.later_button.clicked.connect(self.snooze_requested)
        self.mute_button.clicked.connect(self.mute_requested)

    def ask(self, text: str) -> None:
        self.message.setText(text)
        self.report_button.setFocus()
        self.show()
        self.raise_()


class ErrorWatch(QObject):
    """Built by the tray app when ``detect.enabled``; starts itself once the event loop runs."""

    prompt_shown = Signal(str)  # title
    form_prefilled = Signal(str)  # fingerprint
    repeats_queued = Signal(int)  # how many "+1" reports went into the outbox

    def __init__(self, ctx: Any, core: CoreWorker, flow: Any, face: Any, on_filed: Callable[[], None],
                 parent: QObject | None = None, service_factory: Callable[[], DetectionService] | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.core = core
        self.flow = flow
        self.face = face
        self._on_filed = on_filed
        self._factory = service_factory or (lambda: DetectionService(ctx))
        self.service: DetectionService | None = None
        self.pending: Resolution | None = None
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._relay = _Relay(self)
        self._relay.detected.connect(self._detected)
        self._relay.repeats_ready.connect(self.post_repeats)
        self._posting = self._post_again = False
        self._relay.failed.connect(lambda reason: self.face.notify("Error detection stopped", reason, True))
        self.prompt: ErrorPrompt | None = None
        tray = getattr(face, "tray", None)
        if tray is not None:
            # Any balloon click lands here; it only acts while a detected error waits for an answer.
            tray.messageClicked.connect(self.open_pending)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.stop)
        QTimer.singleShot(0, self.start)

    # ------------------------------------------------------------ the watcher thread

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._watch, name="error-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        service = self.service
        if service is not None:
            service.wake()  # out of its inotify/poll wait now, so close() runs (journalctl reaped, silences saved)
        if self._thread is not None:
            self._thread.join(1.0)  # daemon: a thread still asleep in inotify does not hold up the exit

    def wait_ready(self, timeout: float) -> bool:
        """The service exists and follows its files (tests wait for this before writing)."""
        return self._ready.wait(timeout)

    def _watch(self) -> None:
        try:
            # Built here: opening the files, inotify and SQLite stay off the GUI thread.
            service = self._factory()
        except Exception as exc:  # a broken setup must not take the tray app down
            log.exception("error detection could not start")
            self._relay.failed.emit(f"{type(exc).__name__}: {exc}")
            return
        self.service = service
        log.info("watching %s for errors (%s)", ", ".join(service.watcher.patterns) or "nothing",
                 "inotify" if service.watcher.uses_inotify else "polling")
        self._ready.set()
        _trace("error-watch-ready")  # from this thread: the files are followed from here on
        try:
            while not self._stop.is_set():
                try:
                    for detection in service.detect():
                        self._relay.detected.emit(detection)
                    # Checked every round (at least every few seconds): a ticket filed meanwhile releases
                    # the repeats held for it even when nothing else tells us (ticket_filed is the fast path).
                    if service.repeats_ready():
                        self._relay.repeats_ready.emit()
                except Exception:  # one bad round (a file vanished mid-read) must not end the watching
                    log.exception("error detection round failed")
                    self._stop.wait(RETRY_AFTER_FAILURE_S)
                    continue
                service.wait()
        finally:
            service.close()

    # ------------------------------------------------------------ GUI thread

    @Slot(object)
    def _detected(self, detection: Detection) -> None:
        _trace("error-detected")
        service = self.service
        if service is None:
            return
        self.core.run(self, lambda: service.resolve(detection), self._resolved,
                      lambda exc: log.error("detected error %s not handled: %s", detection.fingerprint, exc))

    def ticket_filed(self) -> None:
        """The outbox filed a report: if it was a detected error's ticket, its held repeats can go now."""
        self.post_repeats()

    @Slot()
    def post_repeats(self) -> None:
        """Queue the "+1" notes whose ticket exists (core worker: bundles and outbox), then kick the outbox."""
        service = self.service
        if service is None:
            return
        if self._posting:
            self._post_again = True  # the call in flight may have looked before this ticket was linked
            return
        self._posting, self._post_again = True, False

        def finished() -> None:
            self._posting = False
            if self._post_again:
                self.post_repeats()

        def done(queued: list[str]) -> None:
            if queued:
                _trace("error-repeats-queued")
                self._on_filed()
                self.repeats_queued.emit(len(queued))
            finished()

        def failed(exc: BaseException) -> None:
            log.error("repeats of detected errors not queued: %s", exc)
            finished()

        self.core.run(self, service.post_repeats, done, failed)

    def _resolved(self, resolution: Resolution) -> None:
        detection = resolution.detection
        if resolution.dedup.found_in == "tracker":
            self.post_repeats()  # the lookup linked the tracker's ticket: repeats held for it can go
        if resolution.filed:
            self._on_filed()
            where = (f"added to {resolution.dedup.existing.key}" if resolution.dedup.existing is not None
                     else "a new report")
            self.face.notify("Error reported automatically", f"{detection.title} ({where})")
            return
        self.pending = resolution
        _trace("error-prompt")
        text = f"{detection.title} — Report it?"
        if resolution.dedup.existing is not None:
            text += f"\n{resolution.dedup.message}"
        self.face.notify("Error detected", text, True)
        if getattr(self.face, "tray", None) is None:
            if self.prompt is None:
                self.prompt = ErrorPrompt()
                self.prompt.report_requested.connect(self.open_pending)
                self.prompt.snooze_requested.connect(self._snooze)
                self.prompt.mute_requested.connect(self._mute)
            self.prompt.ask(f"Error detected: {text}")
        self.prompt_shown.emit(detection.title)

    def open_pending(self) -> None:
        resolution = self.pending
        if self.prompt is not None:
            self.prompt.hide()
        if resolution is None:
            return
        form = self.flow.form
        if form.isVisible():
            # Never overwrite what the reporter is typing; the error waits for the next click.
            self.flow.open_form()
            return
        self.pending = None
        detection = resolution.detection
        self.flow.open_form(extra=detection.evidence)
        draft = detection.draft
        form.title_edit.setText(draft.title)
        form.description_edit.setPlainText(draft.description)
        if draft.impact is not None:
            form.impact_group.buttons()[list(Impact).index(draft.impact)].setChecked(True)
        form.dedup_banner.offer(resolution.dedup)
        _trace("error-form")
        self.form_prefilled.emit(detection.fingerprint)

    def _snooze(self) -> None:
        self._forget_pending(lambda service, fp: service.snooze(fp, SNOOZE_MINUTES))

    def _mute(self) -> None:
        self._forget_pending(lambda service, fp: service.mute(fp))

    def _forget_pending(self, choice: Callable[[DetectionService, str], None]) -> None:
        if self.prompt is not None:
            self.prompt.hide()
        resolution, self.pending = self.pending, None
        if resolution is not None and self.service is not None:
            # Plain dict/set updates on the policy; the watcher thread reads them on its next round.
            choice(self.service, resolution.detection.fingerprint)
