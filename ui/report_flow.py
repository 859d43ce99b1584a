"""From hotkey to queued report: capture, show the pre-created form, fill it in, write the bundle.

Order matters and is the point of this module: capture first (GUI thread, fast), then show;
everything slow (PNG, logs, bundle writing) runs on workers and comes back by signal.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QEvent, QObject, QSocketNotifier, QThreadPool, QTimer, Signal
from PySide6.QtGui import QCursor, QGuiApplication, QImage

from reporter_app.app import Draft
from capture.guard import guarded
from reporter_app.collect import Evidence, make_scrubber
from reporter_app.model import Impact, Role
from reporter_app.severity import rules_from_config
from ui.attachments import filter_evidence
from ui.background import run_in_background
from ui.capture_session import (
    GrabbedShot,
    QuickCapture,
    capture_now,
    encode_image_png,
    finish_evidence,
    grab_is_slow,
    grab_off_thread,
)
from ui.core_worker import CoreWorker
from ui.drafts import DraftStore, FormDraft
from ui.memory import release_free_memory
from ui.report_form import ReportForm

log = logging.getLogger(__name__)
TRIM_DELAY_MS = 3000  # after the bundle is written and sent, not during
ACTIVITY_START_DELAY_MS = 300  # the activity recorder starts this long after startup (see __init__)
# The slow evidence work (PNG, logs) waits for the form's first paint (see `_FirstPaint`); if no paint comes
# (minimized by the window manager, hidden at once) it starts after this long anyway.
EVIDENCE_FALLBACK_MS = 200


class _FirstPaint(QObject):
    """Emits `painted` at the form's first paint after each show: the moment the reporter can see it.

    Why the slow work waits for it: the evidence worker holds the GIL in long C calls (pixel conversion,
    scrubbing), and until the form is painted the GUI thread needs the GIL for every Python-visible event on
    the way to its first Expose. Started together, they made the form appear ~13 ms later (measured).
    A signal, not a callback: a bound method held here would make a reference cycle with ReportFlow, and the
    cyclic GC may then destroy it (and its timers) on whatever thread it happens to run on.
    """

    painted = Signal()

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.armed = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if self.armed and event.type() == QEvent.Type.Paint:
            self.armed = False
            self.painted.emit()
        return False


@dataclass
class _PendingSubmit:
    draft: Draft
    included: set[str]
    edited: QImage | None
    saved: FormDraft
    generation: int  # the capture whose evidence goes with it


class ReportFlow(QObject):
    form_will_show = Signal()
    form_did_show = Signal(float)  # ms from the trigger to show() returning
    form_exposed = Signal()  # the form's first paint after a show: the reporter sees it now
    report_queued = Signal(str, str)  # report id, title
    report_failed = Signal(str)  # a one-line reason

    def __init__(self, ctx: Any, core: CoreWorker, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.core = core
        self._grabbing = False  # the Wayland portal is being asked for a screenshot (open_form)
        config = ctx.config
        errors: dict[str, str] = {}
        self.scrubber = guarded("scrubber", lambda: make_scrubber(config), errors, None)
        if errors:
            log.error("secret scrubber unavailable: %s", errors["scrubber"])
        default_impact = str(config.get("report.default_impact") or "")
        self.form = ReportForm(
            role=Role(config.get("reporter.role")),
            components=[str(c) for c in config.get("report.components") or []],
            rules=guarded("rules", lambda: rules_from_config(config.get("priority.rules")), {}, ()) or (),
            default_impact=Impact(default_impact) if default_impact else None,
        )
        self.drafts = DraftStore(ctx.paths.drafts_dir)
        # Draft saves and clears run one at a time, in order: a late save can't resurrect a cleared draft.
        self._draft_pool = QThreadPool(self)
        self._draft_pool.setMaxThreadCount(1)
        self._quick: QuickCapture | None = None
        self._evidence: Evidence | None = None
        self._edited: QImage | None = None
        self._generation = 0
        self._pending: _PendingSubmit | None = None
        self._after_exposed: Callable[[], None] | None = None  # the current capture's slow work, not started yet
        self._first_paint = _FirstPaint(self)
        self._first_paint.painted.connect(self._form_painted)
        self.form.installEventFilter(self._first_paint)
        self._exposed_fallback = QTimer(self)
        self._exposed_fallback.setSingleShot(True)
        self._exposed_fallback.setInterval(EVIDENCE_FALLBACK_MS)
        self._exposed_fallback.timeout.connect(self._start_after_exposed)
        self.replay: Any = None  # ui/replay_control.ReplayController when screen replay is installed
        self.form.submit_requested.connect(self._submit)
        self.form.cancelled.connect(self._cancel)
        self.form.draft_changed.connect(self._save_draft)
        self.form.draft_restore_declined.connect(self._clear_draft)
        self.form.preview_requested.connect(self._preview)
        self.form.annotate_requested.connect(self._annotate)
        self.form.fingerprint_changed.connect(self._look_up_fingerprint)
        self._trim_timer = QTimer(self)
        self._trim_timer.setSingleShot(True)
        self._trim_timer.setInterval(TRIM_DELAY_MS)
        self._trim_timer.timeout.connect(release_free_memory)
        self.activity: Any = None
        # After the tray is up: the recorder's own X connection costs ~60 ms that the first hotkey does not need.
        QTimer.singleShot(ACTIVITY_START_DELAY_MS, self, self._start_activity_later)
        run_in_background(self, self.drafts.load, self._offer_draft, pool=self._draft_pool)

    # ------------------------------------------------------------------ setup

    def _start_activity_later(self) -> None:
        if self.activity is None:
            self.activity = self._start_activity()

    def _start_activity(self) -> Any:
        count = int(self.ctx.config.get("capture.activity_events") or 0)
        if count <= 0:
            return None
        from capture.activity import ActivityRecorder

        recorder = ActivityRecorder(self.scrubber, maxlen=count)
        if not guarded("activity", recorder.start, {}, False):
            return None
        if recorder.fileno() >= 0:
            # Foreground changes arrive on the X socket: serviced here, on the GUI thread, no polling.
            self._activity_notifier = QSocketNotifier(recorder.fileno(), QSocketNotifier.Type.Read, self)
            self._activity_notifier.activated.connect(lambda *_: guarded("activity", recorder.poll, {}, 0))
        else:
            self._activity_timer = QTimer(self)
            self._activity_timer.timeout.connect(lambda: guarded("activity", recorder.sample, {}, None))
            self._activity_timer.start(1000)
        return recorder

    def _look_up_fingerprint(self, fingerprint: str) -> None:
        """A stack trace typed into the form: already reported? (local map, then the tracker: core worker)."""
        if not fingerprint:
            return
        from reporter_app.detect.dedup import FingerprintMap, lookup

        ctx = self.ctx
        self.core.run(self, lambda: lookup(fingerprint, FingerprintMap.in_data_dir(ctx.paths.data_dir), ctx.tracker,
                                           ctx.clock),
                      self.form.dedup_banner.offer_if_current,
                      lambda exc: log.error("could not look up %s: %s", fingerprint, exc))

    def _offer_draft(self, saved: FormDraft | None) -> None:
        if saved is not None:
            self.form.offer_draft(saved)

    # ------------------------------------------------------------------ open

    def open_form(self, started: float | None = None, extra: Evidence | None = None,
                  grabbed: GrabbedShot | None = None) -> None:
        """The hotkey / tray / second launch entry point. ``extra``: already scrubbed logs to attach
        (a detected error's trace, from ui/error_watch.py). ``grabbed``: the screenshot taken on a worker."""
        started = started or time.perf_counter()
        if self.form.isVisible():
            self._bring_to_front()
            return
        if grabbed is None and grab_is_slow(self.ctx.config):
            # Wayland: the portal's grab blocks (D-Bus, maybe a dialog), so it runs on a worker and the form
            # opens when it is back: still before any window of ours maps, and the tray stays responsive.
            if self._grabbing:
                return  # a second press while the portal is being asked
            self._grabbing = True
            config = self.ctx.config
            run_in_background(self, lambda: grab_off_thread(config),
                              lambda shot: self._grab_done(started, extra, shot),
                              lambda exc: self._grab_done(started, extra, GrabbedShot(error=f"{type(exc).__name__}: {exc}")))
            return
        self._start_after_exposed()  # a previous capture's work still waiting (reopened before it painted)
        self._generation += 1
        generation = self._generation
        quick = capture_now(self.ctx.config, self.scrubber, self.activity, grabbed)  # before any window of ours maps
        if self.replay is not None:  # screen replay: its snapshot too is taken before the form maps
            quick.evidence.replay = self.replay.snapshot_for_report()
        if extra is not None:
            quick.evidence.logs.extend(extra.logs)
            quick.evidence.redactions.update(extra.redactions)
        self._quick, self._evidence, self._edited = quick, None, None
        self.form.prepare(quick.image, quick.evidence)
        self.form_will_show.emit()
        self._place_on_cursor_screen()

        config, scrubber = self.ctx.config, self.scrubber  # the worker's job must not hold `self` (see below)

        def after_exposed() -> None:
            log.info("form shown: capture %.1f ms (%s), on screen after %.1f ms", quick.took_ms,
                     ", ".join(f"{k} {v:.1f}" for k, v in quick.timings.items()),
                     (time.perf_counter() - started) * 1000)
            self.form.show_thumbnail(quick.image)
            # Parent: the form, which the results fill; a form already deleted (quitting) drops them. The job holds
            # no `self`: were it the last reference, this QObject (and its timers) would die on the worker thread.
            run_in_background(self.form, lambda: finish_evidence(config, scrubber, quick),
                              lambda evidence: self._evidence_ready(generation, evidence),
                              lambda exc: self._evidence_failed(generation, quick.evidence, exc))

        self._after_exposed = after_exposed
        self._first_paint.armed = True
        self._exposed_fallback.start()
        self.form.show()
        self._bring_to_front()
        self.form_did_show.emit((time.perf_counter() - started) * 1000)

    def _grab_done(self, started: float, extra: Evidence | None, grabbed: GrabbedShot) -> None:
        self._grabbing = False
        self.open_form(started, extra, grabbed)

    def _form_painted(self) -> None:
        self.form_exposed.emit()
        # The next loop turn: after the whole first frame is painted and flushed, not in the middle of it.
        QTimer.singleShot(0, self, self._start_after_exposed)

    def _start_after_exposed(self) -> None:
        """The thumbnail (a scale) and the worker (PNG, logs): once per capture, after the form is on screen."""
        self._exposed_fallback.stop()
        work, self._after_exposed = self._after_exposed, None
        if work is not None:
            work()

    def _place_on_cursor_screen(self) -> None:
        # One screen: no need to ask the X server where the pointer is (a round trip on the hotkey's path).
        several = len(QGuiApplication.screens()) > 1
        screen = (QGuiApplication.screenAt(QCursor.pos()) if several else None) or QGuiApplication.primaryScreen()
        if screen is None:
            return
        area = screen.availableGeometry()
        size = self.form.sizeHint().expandedTo(self.form.minimumSize())
        self.form.move(area.center().x() - size.width() // 2, max(area.top(), area.center().y() - size.height() // 2))

    def _bring_to_front(self) -> None:
        self.form.raise_()
        self.form.activateWindow()
        self.form.title_edit.setFocus()

    def _evidence_ready(self, generation: int, evidence: Evidence) -> None:
        if self._pending is not None and self._pending.generation == generation:
            # Submitted before the logs were ready: written now, even if a new form is already open.
            pending, self._pending = self._pending, None
            self._write(pending, evidence)
        if generation != self._generation:
            return  # a newer capture replaced this one
        self._evidence = evidence
        self.form.set_evidence(evidence)

    def _evidence_failed(self, generation: int, fallback: Evidence, exc: BaseException) -> None:
        log.error("collecting evidence failed: %s", exc)
        fallback.errors.setdefault("evidence", f"{type(exc).__name__}: {exc}")
        self._evidence_ready(generation, fallback)  # the report still goes out with what we have

    # ------------------------------------------------------------------ draft

    def _save_draft(self) -> None:
        saved = self.form.form_draft()
        if saved.is_empty():
            return
        run_in_background(self, lambda: self.drafts.save(saved), pool=self._draft_pool)

    def _clear_draft(self) -> None:
        run_in_background(self, self.drafts.clear, pool=self._draft_pool)

    # ------------------------------------------------------------------ close

    def _form_closed(self) -> None:
        # A report leaves ~30 MB of freed screenshot buffers in malloc's arenas; give them back to the OS
        # once the reporter is done, so the idle tray stays small.
        self._trim_timer.start()

    def _cancel(self) -> None:
        self._form_closed()
        self.form.hide()
        self.form.reset()
        self._generation += 1
        self._quick = self._evidence = self._edited = None
        self._clear_draft()

    def _submit(self) -> None:
        pending = _PendingSubmit(self.form.draft(), self.form.attachments.included(), self._edited,
                                 self.form.form_draft(), self._generation)
        # Hide at once: the reporter is done; writing happens behind.
        self._form_closed()
        self.form.hide()
        self.form.reset()
        evidence, self._evidence, self._quick = self._evidence, None, None
        if evidence is None:
            self._pending = pending  # written when the logs arrive
        else:
            self._write(pending, evidence)

    def _write(self, pending: _PendingSubmit, evidence: Evidence) -> None:

        def op() -> tuple[str, str]:
            chosen = filter_evidence(evidence, pending.included)
            if pending.edited is not None and chosen.screenshot_png is not None:
                chosen.screenshot_png = encode_image_png(pending.edited)
            bundle, entry = self.ctx.submit(pending.draft, chosen)
            self.drafts.clear()
            return entry.id, pending.draft.title

        def failed(exc: BaseException) -> None:
            log.error("could not save the report: %s", exc)
            self.form.restore(pending.saved)
            self.open_form()  # back to the reporter, with what they typed
            self.form.error_label.setText(f"The report could not be saved: {exc}")
            self.form.error_label.show()
            self.report_failed.emit(str(exc))

        self.core.run(self, op, lambda result: self.report_queued.emit(*result), failed)

    # ------------------------------------------------------------------ extras

    def _current_evidence(self) -> Evidence:
        base = self._evidence or (self._quick.evidence if self._quick else Evidence())
        return filter_evidence(base, self.form.attachments.included())

    def _preview(self) -> None:
        from ui.preview import PreviewDialog

        evidence = self._current_evidence()
        image = self._edited or (self._quick.image if self._quick else None)
        if image is not None and "screenshot" not in self.form.attachments.included():
            image = None
        dialog = PreviewDialog(self.form.draft(), evidence, image, self.form)
        if self._evidence is None:
            dialog.text.appendPlainText("\n(Logs are still being collected; they will be added when ready.)")
        dialog.exec()

    def _annotate(self) -> None:
        if self._quick is None or self._quick.image is None:
            return
        try:
            from ui.annotate import AnnotateDialog
        except ImportError:
            return
        source = self._edited or self._quick.image.copy()
        dialog = AnnotateDialog(source, self.form)
        if dialog.exec():
            self._edited = dialog.result_image()
            self.form.show_thumbnail(self._edited)

    def shutdown(self) -> None:
        self._exposed_fallback.stop()
        self._after_exposed = None  # a capture never painted: its logs are not wanted any more
        if self.activity is not None:
            self.activity.close()
        self._draft_pool.waitForDone(2000)
