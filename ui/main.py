"""`run_gui`: the tray app (and `reporter-app report --gui`).

Startup does only what the tray needs (config, the key grab, the tray or its window); the form is
pre-created on the loop turn after `ready`, and everything else (outbox, drafts, error and status
watchers) starts on workers after that.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QCursor, QGuiApplication
from PySide6.QtWidgets import QApplication, QWidget

from ui.core_worker import CoreWorker
from ui.hotkey import GlobalHotkey, HotkeyError, HotkeyUnavailable, bind_global_hotkey
from ui.outbox_worker import OutboxWorker
from ui.single_instance import OPEN_FORM, InstanceServer, ask_running_instance, server_name
from ui.tray import AppFace, TrayActions

log = logging.getLogger("reporter_app.ui")
WATCHERS_DELAY_MS = 500  # background watchers start this long after the tray is ready
TRACE_ENV = "REPORTER_APP_TRACE"  # "1": print timing events (monotonic clock) on stdout, for bench/ and tests


def trace(event: str, detail: str = "") -> None:
    """`trace <event> <monotonic>[ <detail>]`: the detail (a notice's title) goes last, so it may hold spaces."""
    if os.environ.get(TRACE_ENV) == "1":
        print(f"trace {event} {time.monotonic():.6f}" + (f" {detail}" if detail else ""), flush=True)


class ReporterApp(QObject):
    def __init__(self, ctx: Any, force_window: bool = False) -> None:
        super().__init__()
        self.ctx = ctx
        self.core = CoreWorker(self)
        self.outbox = OutboxWorker(ctx, self.core, self)
        self._flow: Any = None  # ui.report_flow.ReportFlow, made by the `flow` property (after `ready`)
        self.error_watch: Any = None  # ui.error_watch.ErrorWatch, started a moment after `ready`
        self.replay: Any = None  # ui.replay_control.ReplayController, installed with the flow
        self.hotkey: GlobalHotkey | None = None
        self.hotkey_state = self._bind_hotkey()
        hotkey_text = str(self.hotkey.shortcut) if self.hotkey else ""
        self.actions = TrayActions(hotkey_text, self)
        self.face = AppFace(self.actions, self, force_window=force_window)
        self._windows: dict[str, Any] = {}
        self.actions.report_requested.connect(lambda: self.flow.open_form())
        self.actions.my_reports_requested.connect(self.show_my_reports)
        self.actions.outbox_requested.connect(self.show_my_reports)
        self.actions.settings_requested.connect(self.show_settings)
        self.actions.quit_requested.connect(self.quit)
        self.outbox.pending_changed.connect(self.actions.set_pending)
        self.outbox.report_filed.connect(lambda key, url, title: self.face.notify(f"Filed as {key}", title))
        self.outbox.report_needs_attention.connect(
            lambda title, message: self.face.notify("A report needs attention", f"{title}: {message}", True))
        from ui.status_watch import StatusWatch  # ticket status notices (docs/ui.md); starts after `ready`

        self.status_watch = StatusWatch(ctx, self.core, self.face, self.show_my_reports, parent=self)
        self.outbox.report_filed.connect(lambda *_: self.status_watch.report_filed())
        from ui.reload import ConfigReloader  # saved settings and edited config files apply live (docs/configuration.md)

        self.reloader = ConfigReloader(self)
        if self.hotkey_state.startswith("not available") or self.hotkey_state.startswith("not bound"):
            QTimer.singleShot(0, lambda: self.face.notify("Shortcut not available", self.hotkey_state, True))

    @property
    def flow(self) -> Any:
        """The report flow with its pre-created form. Made on the loop turn after `ready` (start), not before:
        its imports and widgets are ~0.1 s the tray does not need. A press before then makes it at once."""
        if self._flow is None:
            from ui.report_flow import ReportFlow

            flow = ReportFlow(self.ctx, self.core, self)
            self._flow = flow  # set first: install_replay reads app.flow
            # The form's first paint after each show (the bench's "form exposed"; the floor uses the same event).
            flow.form_exposed.connect(lambda: trace("form-exposed"))
            flow.report_queued.connect(lambda *_: self.outbox.kick())
            flow.report_failed.connect(lambda reason: self.face.notify("The report was not saved", reason, True))
            from ui.replay_control import install_replay  # screen replay (docs/replay.md): tray entry, form item

            self.replay = install_replay(self)
        return self._flow

    def _start_watchers(self) -> None:
        """A moment after `ready`: background services nobody waits for at startup."""
        self.error_watch = self._start_error_watch()
        self.status_watch.start()

    def _bind_hotkey(self) -> str:
        text = str(self.ctx.config.get("hotkey.report") or "")
        if not text:
            return "turned off (hotkey.report = \"\")"
        try:
            self.hotkey = bind_global_hotkey(text, self)
        except HotkeyUnavailable as exc:
            log.warning("global shortcut not available: %s", exc)
            return f"not available: {exc}"
        except HotkeyError as exc:
            log.warning("global shortcut %s not bound: %s", text, exc)
            return f"not bound: {exc}"
        self.hotkey.activated.connect(self._hotkey_pressed)
        # The Wayland portal answers later, maybe after asking the user (ui/hotkey_portal.py).
        self.hotkey.bound.connect(lambda trigger: setattr(self, "hotkey_state", f"{trigger} (set by the desktop)"))
        self.hotkey.failed.connect(self._hotkey_failed)
        if not self.hotkey.confirmed:
            return f"{self.hotkey.shortcut} (waiting for the desktop to confirm it)"
        return f"{self.hotkey.shortcut} (works everywhere)"

    def _hotkey_failed(self, error: HotkeyError) -> None:
        kind = "not available" if isinstance(error, HotkeyUnavailable) else "not bound"
        log.warning("global shortcut %s: %s", kind, error)
        self.hotkey_state = f"{kind}: {error}"
        trace("hotkey-failed")
        self.face.notify("Shortcut not available", self.hotkey_state, True)

    def _start_error_watch(self) -> Any:
        """Log watching (ui/error_watch.py), only when `detect.enabled`: it is opt-in."""
        if not self.ctx.config.get("detect.enabled"):
            return None
        from ui.error_watch import ErrorWatch

        watch = ErrorWatch(self.ctx, self.core, self.flow, self.face, on_filed=self.outbox.kick, parent=self)
        # A new ticket may be a detected error's: its held repeats become "+1" notes at once.
        self.outbox.report_filed.connect(lambda *_: watch.ticket_filed())
        return watch

    def _hotkey_pressed(self) -> None:
        trace("hotkey")
        self.flow.open_form(started=time.perf_counter())

    def start(self) -> None:
        """After the event loop runs: the first send round, and the ready mark."""
        self.outbox.start()
        trace("ready")
        QTimer.singleShot(0, self._warm_up)  # the next loop turn: pre-create the form (cheap to show later)
        # Nothing the first hotkey press needs: a moment later, so the tray is drawn first.
        QTimer.singleShot(WATCHERS_DELAY_MS, self._start_watchers)

    def _warm_up(self) -> None:
        self.flow  # noqa: B018 - building the form once, now, is what makes the hotkey instant later
        # The stall meter (REPORTER_APP_STALL_METER=1) measures the running app from here on: the one-off build of the
        # pre-created form above is start-up work, not a stall caused by sending or polling.
        from ui.stall_monitor import start_if_traced

        self._stall_monitor = start_if_traced(self)
        trace("warm")

    def show_my_reports(self, report_id: str = "", key: str = "") -> None:
        """My reports; with a report id (a clicked status notice), that report selected."""
        from ui.my_reports import MyReportsWindow

        window = self._windows.get("my_reports")
        if window is None:
            window = MyReportsWindow(self.ctx, self.core, self.outbox)
            self._windows["my_reports"] = window
            center_on_screen(window)
        if report_id or key:
            window.select_report(report_id, key)
        window.refresh()
        window.show()
        window.raise_()
        window.activateWindow()

    def show_settings(self) -> None:
        from ui.settings import SettingsDialog

        dialog = SettingsDialog(self.ctx, self.core, self.hotkey_state)
        center_on_screen(dialog)
        dialog.show()
        self._windows["settings"] = dialog
        self.reloader.attach(dialog)

    def quit(self) -> None:
        self.status_watch.stop()
        self.outbox.stop()
        if self.hotkey is not None:
            self.hotkey.close()
        if self._flow is not None:
            self._flow.shutdown()
        self.core.shutdown()
        self.face.hide()
        QApplication.quit()


def center_on_screen(window: QWidget) -> None:
    """Window managers (openbox) may place a new window half off-screen; put it where the pointer is."""
    screen = QGuiApplication.screenAt(QCursor.pos()) or QGuiApplication.primaryScreen()
    if screen is not None:
        frame = window.frameGeometry()
        frame.moveCenter(screen.availableGeometry().center())
        window.move(frame.topLeft())


def _setup_logging(ctx: Any) -> None:
    from logging.handlers import RotatingFileHandler

    root = logging.getLogger("reporter_app")
    if any(isinstance(h, RotatingFileHandler) for h in root.handlers):
        return
    try:
        ctx.paths.log_file.parent.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(ctx.paths.log_file, maxBytes=1_000_000, backupCount=3, encoding="utf-8")
    except OSError:
        return
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for name in ("reporter_app", "ui", "capture"):
        logging.getLogger(name).addHandler(handler)
        logging.getLogger(name).setLevel(logging.INFO)


def run_gui(home: str | None = None, overrides: Sequence[str] = (), open_form: bool = False) -> int:
    """Start the tray app, or hand the request to the one already running for this data dir."""
    from ui.memory import forget_sources_read_by_pyside

    forget_sources_read_by_pyside()  # first: ~5 MiB of source lines otherwise stay cached (ui/memory.py)
    from reporter_app.app import AppContext
    from reporter_app.config import ConfigError

    try:
        ctx = AppContext.load(home=home, overrides=overrides)
    except ConfigError as exc:
        print(f"reporter-app: {exc}", file=sys.stderr)
        return 1
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName("reporter-app")
    app.setDesktopFileName("reporter-app")
    app.setQuitOnLastWindowClosed(False)  # the form and windows come and go; the tray stays
    name = server_name(ctx.paths.data_dir)
    # The brief: a second launch (with or without `report --gui`) opens the form in the running app.
    if ask_running_instance(name, OPEN_FORM):
        return 0
    _setup_logging(ctx)
    try:
        server = InstanceServer(name)
    except OSError as exc:
        print(f"reporter-app: {exc}", file=sys.stderr)
        return 1
    reporter = ReporterApp(ctx, force_window=os.environ.get("REPORTER_APP_NO_TRAY") == "1")
    reporter.reloader.overrides = tuple(overrides)  # --set still wins after a reload
    server.form_requested.connect(lambda: reporter.flow.open_form())
    server.show_requested.connect(reporter.show_my_reports)
    QTimer.singleShot(0, reporter.start)
    if open_form:
        QTimer.singleShot(0, lambda: reporter.flow.open_form())
    code = app.exec()
    server.close()
    return int(code)
