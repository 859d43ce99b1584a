"""Screen replay in the app: the recorder's on/off/pause switch in the tray, and its indicator.

`install_replay(app)` wires it into a `ReporterApp`: a "Replay: …" tray entry (or buttons in the
fallback window), a dot on the tray icon and a tooltip while it records, the form's replay item
(ui/replay_panel.py) and the snapshot `ReportFlow` takes on the hotkey. The recorder itself
(capture/replay.py) runs on its own thread; this object only polls its state once a second.

The tray's on/off choice is the user's state, not config: it is kept in `replay-state.json` in the data
dir (read and written on workers) together with the `[replay] enabled` value it overrode, so it survives
a restart, while editing that value in the config later (or an administrator locking it) wins again.
The config file itself is never rewritten.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QMenu, QPushButton

from capture.replay import EXCLUDED, FAILED, OFF, PAUSED, RECORDING, ReplayRecorder, settings_from, unavailable_reason
from capture.replay_encode import ReplaySelection
from reporter_app.fsutil import atomic_write_text
from ui.background import run_in_background
from ui.icons import app_icon

log = logging.getLogger(__name__)
UNAVAILABLE = "unavailable"
STATE_WORDS = {OFF: "off", RECORDING: "on", PAUSED: "paused", EXCLUDED: "paused (private window)",
               FAILED: "stopped (error)", UNAVAILABLE: "not available"}
DOT_COLOURS = {RECORDING: "#d32f2f", EXCLUDED: "#f9a825", PAUSED: "#f9a825"}
STATE_FILE = "replay-state.json"
_NOT_GIVEN: Any = object()


@dataclass(frozen=True)
class ReplayChoice:
    """The user's last on/off from the tray, and the `[replay] enabled` it overrode at the time."""

    enabled: bool
    config_enabled: bool


def load_choice(path: Path, config_enabled: bool) -> ReplayChoice | None:
    """Worker: the saved choice that still applies; None when there is none.

    A choice made against another `[replay] enabled` value is stale: the config was edited since, and the
    edit wins; the file is removed so that the old choice cannot come back if the value is edited back.
    A damaged file counts as none (and says so).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        data = json.loads(text)
        enabled, chosen_against = data["enabled"], data["config_enabled"]
        if not isinstance(enabled, bool) or not isinstance(chosen_against, bool):
            raise TypeError("enabled and config_enabled must be true or false")
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("%s: ignored, the replay setting from the config applies (%s: %s)", path, type(exc).__name__, exc)
        return None
    if chosen_against != config_enabled:
        path.unlink(missing_ok=True)
        return None
    return ReplayChoice(enabled, config_enabled)


def save_choice(path: Path, choice: ReplayChoice) -> None:
    """Worker: write the choice atomically (never half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps({"enabled": choice.enabled, "config_enabled": choice.config_enabled}) + "\n")


class ReplayController(QObject):
    state_changed = Signal(str)

    def __init__(
        self,
        config: Any,
        parent: QObject | None = None,
        *,
        state_file: Path | None = None,
        recorder_factory: Callable[..., ReplayRecorder] = ReplayRecorder,
        reason: str | None = _NOT_GIVEN,
    ) -> None:
        """``state_file``: where the tray's on/off choice is kept (None: not kept). ``reason``: why replay cannot
        run here, None when it can (default: asked of capture.replay)."""
        super().__init__(parent)
        self.settings = settings_from({key: config.get(f"replay.{key}")
                                       for key in ("seconds", "fps", "monitor", "exclude_windows")})
        self.reason = unavailable_reason() if reason is _NOT_GIVEN else reason
        self.recorder: ReplayRecorder | None = None
        self.current: ReplaySelection | None = None  # what the open form offers (ui/replay_panel.py)
        self._recorder_factory = recorder_factory
        self._state = UNAVAILABLE if self.reason else OFF
        self._timer = QTimer(self)
        self._timer.setInterval(1000)  # exclusion and failures happen on the recorder thread: look now and then
        self._timer.timeout.connect(self._refresh)
        self.config_enabled = bool(config.get("replay.enabled"))
        locked = getattr(config, "is_locked", None)
        self.locked_by = config.locked_by("replay.enabled") if locked is not None and locked("replay.enabled") else ""
        self.state_file = state_file
        self._user_chose = False  # a toggle before the saved choice is read wins over it
        self._save_lock = threading.Lock()
        self._latest: ReplayChoice | None = None
        self.choice_applied = False  # True once the start-up on/off is decided (the saved choice read, if any)
        if self.reason is not None:
            self.choice_applied = True
            return
        if state_file is None or self.locked_by:
            self._start_as(self.config_enabled)
            self.choice_applied = True
        else:
            # Read on a worker (no disk on the GUI thread); nothing records until then, so a saved "off" is
            # never preceded by a second of recording.
            run_in_background(self, lambda: load_choice(state_file, self.config_enabled), self._apply_choice,
                              self._choice_failed)

    def _start_as(self, enabled: bool) -> None:
        if enabled:
            self.turn_on()

    def _apply_choice(self, choice: ReplayChoice | None) -> None:
        if not self._user_chose:
            self._start_as(choice.enabled if choice is not None else self.config_enabled)
        self.choice_applied = True

    def _choice_failed(self, exc: BaseException) -> None:
        log.warning("screen replay: cannot read %s (%s); the config's setting applies", self.state_file, exc)
        self._apply_choice(None)

    @property
    def state(self) -> str:
        return self._state

    def turn_on(self) -> None:
        if self.reason is not None:
            return
        if self.recorder is None:
            self.recorder = self._recorder_factory(self.settings)
        self.recorder.resume()
        self.recorder.start()
        self._timer.start()
        self._refresh()

    def turn_off(self) -> None:
        if self.recorder is not None:
            self.recorder.stop()  # and forgets every frame
        self._timer.stop()
        self._refresh()

    def toggle(self) -> None:
        """The user's switch (tray, fallback window): turns replay on or off and remembers it across restarts."""
        if self.locked_by:
            return  # the administrator decides; the switch is greyed out (ReplayMenu)
        self.turn_off() if self.state not in (OFF, UNAVAILABLE, FAILED) else self.turn_on()
        self._user_chose = True
        self._remember(ReplayChoice(self.state not in (OFF, UNAVAILABLE, FAILED), self.config_enabled))

    def _remember(self, choice: ReplayChoice) -> None:
        if self.state_file is None:
            return
        self._latest = choice
        path = self.state_file

        def write() -> None:
            # Each write takes the newest choice under the lock, so two quick toggles whose workers run out
            # of order still leave the last one on disk.
            with self._save_lock:
                latest = self._latest
                if latest is not None:
                    save_choice(path, latest)

        run_in_background(None, write, None, lambda exc: log.warning(
            "screen replay: the on/off choice was not saved to %s: %s", path, exc))

    def toggle_pause(self) -> None:
        if self.recorder is None:
            return
        if self.state == PAUSED:
            self.recorder.resume()
        else:
            self.recorder.pause()
        self._refresh()

    def _refresh(self) -> None:
        state = UNAVAILABLE if self.reason else (self.recorder.state if self.recorder else OFF)
        if state == FAILED and self.recorder is not None and self._state != FAILED:
            log.error("screen replay failed: %s", self.recorder.error)
        if state != self._state:
            self._state = state
            self.state_changed.emit(state)

    def label(self) -> str:
        return f"Replay: {STATE_WORDS.get(self.state, self.state)}"

    def snapshot_for_report(self) -> ReplaySelection | None:
        """Called on the hotkey, before the form shows: the frames so far, or None when there are none."""
        self.current = None
        if self.recorder is None or self.state == OFF:
            return None
        clip = self.recorder.snapshot()
        if clip.count == 0:
            return None
        self.current = ReplaySelection(clip)
        return self.current

    def shutdown(self) -> None:
        self._timer.stop()
        if self.recorder is not None:
            self.recorder.stop()


def icon_with_dot(base: QIcon, colour: str) -> QIcon:
    """The app icon with a coloured dot in its corner: the "recording" light."""
    pixmap = base.pixmap(64, 64)
    if pixmap.isNull():
        pixmap = QPixmap(64, 64)
        pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QColor("white"))
    painter.setBrush(QColor(colour))
    painter.drawEllipse(36, 36, 26, 26)
    painter.end()
    return QIcon(pixmap)


class ReplayMenu(QObject):
    """The tray entry "Replay: on/off/paused" with its submenu, kept in step with the controller."""

    def __init__(self, controller: ReplayController, face: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.face = face
        self.switch = QAction(self)
        self.switch.triggered.connect(controller.toggle)
        self.pause = QAction(self)
        self.pause.triggered.connect(controller.toggle_pause)
        self.entry = QAction(controller.label(), self)
        self.menu = QMenu()
        self.menu.addAction(self.switch)
        self.menu.addAction(self.pause)
        self.entry.setMenu(self.menu)
        self._buttons: list[QPushButton] = []
        tray_menu = getattr(face, "menu", None)
        if face.tray is not None and tray_menu is not None:
            actions = tray_menu.actions()
            tray_menu.insertAction(actions[-2] if len(actions) >= 2 else None, self.entry)  # above the separator
        elif face.window is not None:
            layout = face.window.layout()
            for action in (self.switch, self.pause):
                button = QPushButton()
                button.clicked.connect(action.trigger)
                action.changed.connect(lambda b=button, a=action: (b.setText(a.text()), b.setVisible(a.isVisible()),
                                                                   b.setEnabled(a.isEnabled())))
                layout.insertWidget(max(0, layout.count() - 2), button)  # above Quit and the message line
                self._buttons.append(button)
        controller.state_changed.connect(self.update)
        self.update()

    def update(self, *_: object) -> None:
        state = self.controller.state
        self.entry.setText(self.controller.label())
        self.switch.setText("Turn screen replay off" if state not in (OFF, UNAVAILABLE, FAILED)
                            else "Turn screen replay on")
        locked_by = self.controller.locked_by
        self.switch.setEnabled(state != UNAVAILABLE and not locked_by)
        locked_tip = f"Set by your administrator ({locked_by})" if locked_by else ""
        self.switch.setToolTip(self.controller.reason or locked_tip)
        self.pause.setText("Resume screen replay" if state == PAUSED else "Pause screen replay")
        self.pause.setVisible(state in (RECORDING, PAUSED, EXCLUDED))
        for button, action in zip(self._buttons, (self.switch, self.pause)):
            button.setText(action.text())
            button.setVisible(action.isVisible())
            button.setEnabled(action.isEnabled())
            button.setAccessibleName(action.text())
        self._indicate(state)

    def _indicate(self, state: str) -> None:
        seconds = int(self.controller.settings.seconds)
        if state == RECORDING:
            tip = f"Reporter: screen replay is recording (keeps the last {seconds} s, in memory only)"
        elif state in (PAUSED, EXCLUDED):
            tip = f"Reporter: screen replay {STATE_WORDS[state]}"
        else:
            tip = "Reporter: report a problem"
        tray = self.face.tray
        if tray is not None:
            tray.setToolTip(tip)
            colour = DOT_COLOURS.get(state)
            tray.setIcon(icon_with_dot(app_icon(), colour) if colour else app_icon())
        elif self.face.window is not None:
            self.face.window.setWindowTitle("Reporter (replay on)" if state == RECORDING else "Reporter")
            self.face.window.setToolTip(tip)


def install_replay(app: Any) -> ReplayController:
    """Screen replay for a ReporterApp: tray entry, indicator, the form's replay item, the hotkey snapshot."""
    from ui.replay_panel import ReplayFormHook

    controller = ReplayController(app.ctx.config, app, state_file=app.ctx.paths.data_dir / STATE_FILE)
    app.replay_menu = ReplayMenu(controller, app.face, app)
    app.replay_form_hook = ReplayFormHook(app.flow, controller, app)
    app.flow.replay = controller
    instance = QApplication.instance()
    if instance is not None:
        instance.aboutToQuit.connect(controller.shutdown)
    return controller
