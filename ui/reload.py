"""Apply a changed configuration to the running app, without a restart.

Triggers: the settings dialog's save, and any change of the config files on disk (`reporter-app
config set`, a text editor), seen by a QFileSystemWatcher and debounced. A reload loads every
layer again with the app's own environment and `--set` overrides, on the core worker (disk, and in
order with sends and polls, which read `ctx.config` on that thread), then applies only what changed:

- the global shortcut is re-bound: the old grab is released first (X refuses a second grab of the same
  keys, even from us); if the new one cannot be had, the old one is grabbed back and the user is told;
- the tracker is built again from the new settings for the next send (the cached one is dropped on the
  core worker, between two sends); the outbox's backoff is read at each round anyway;
- the scrubber (privacy options and rules) is rebuilt; the activity recorder restarts with it, so clicks
  recorded under the old rules are dropped; capture reads log sources and screenshot mode per report;
- the form takes the new role, components, priority rules and default impact;
- status polling rebuilds its tracking (cadence, SLA, who "me" is) and looks again now;
- error detection restarts with the new `[detect]` and `[[logs]]`; screen replay with the new `[replay]`.

A config that does not load is not applied: the app keeps running on the previous one and says why once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal

from reporter_app.config import TABLE_ARRAYS, Config, ConfigError, load_config
from ui.background import run_in_background
from ui.hotkey import GlobalHotkey, HotkeyError, bind_global_hotkey, parse_shortcut

log = logging.getLogger(__name__)
DEBOUNCE_MS = 300  # an editor's save is several file events; a `config set` is a temp file and a rename
_ABSENT = object()

# Which part of the app a changed key concerns (by prefix); keys read at each use need nothing.
TRACKER, STATUS, SCRUB, FORM, DETECT, REPLAY, HOTKEY = "tracker", "status", "scrub", "form", "detect", "replay", \
    "hotkey"
_CONCERNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("hotkey.report", (HOTKEY,)),
    ("tracker.", (TRACKER, STATUS)),
    ("status.", (STATUS,)),
    ("sla", (STATUS,)),
    ("reporter.role", (FORM, STATUS)),
    ("reporter.", (STATUS,)),
    ("report.", (FORM,)),
    ("priority.rules", (FORM, STATUS)),
    ("privacy.", (SCRUB,)),
    ("capture.activity_events", (SCRUB,)),
    ("detect.", (DETECT,)),
    ("logs", (DETECT,)),
    ("replay.", (REPLAY,)),
)


def _value(config: Config, key: str) -> Any:
    try:
        return config.get(key)
    except KeyError:  # a secret option, or a key of another backend
        return _ABSENT


def changed_keys(old: Config, new: Config) -> set[str]:
    """Every declared key (and array of tables) whose effective value differs."""
    keys = set(old.options) | set(new.options) | set(TABLE_ARRAYS)
    return {key for key in keys if _value(old, key) != _value(new, key)}


def concerns(keys: set[str]) -> set[str]:
    found: set[str] = set()
    for key in keys:
        for prefix, parts in _CONCERNS:
            if key == prefix or key.startswith(prefix if prefix.endswith(".") else prefix + "."):
                found.update(parts)
                break
    return found


@dataclass
class Reloaded:
    """What a reload did, for the settings dialog and tests."""

    changed: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)  # said to the user (a shortcut that stayed, ...)
    hotkey_state: str = ""  # what the shortcut is now, as the settings dialog shows it


@dataclass
class _Loaded:
    config: Config
    changed: set[str]
    scrubber: Any


class ConfigReloader(QObject):
    """Owned by the ReporterApp; `reload()` from anywhere on the GUI thread."""

    config_did_reload = Signal(object)  # Reloaded
    reload_failed = Signal(str)

    def __init__(self, app: Any, overrides: Sequence[str] = (), watch: bool = True) -> None:
        super().__init__(app)
        self.app = app
        self.overrides = tuple(overrides)  # the app's --set: they still win after a reload
        self._busy = False
        self._again = False
        self._last_error = ""
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self.reload)
        self._watcher: QFileSystemWatcher | None = None
        if watch:
            QTimer.singleShot(0, self, self._watch)

    # ------------------------------------------------------------ triggers

    def _watch(self) -> None:
        paths = self.app.ctx.paths
        self._watcher = QFileSystemWatcher(self)
        # The directories too: an atomic save replaces the file, and the watch on the old inode goes with it.
        for path in (paths.user_config, paths.system_config):
            for target in (path, path.parent):
                if Path(target).exists():
                    self._watcher.addPath(str(target))
        self._watcher.fileChanged.connect(self._file_event)
        self._watcher.directoryChanged.connect(self._file_event)

    def _file_event(self, *_: object) -> None:
        self._debounce.start()

    def attach(self, dialog: Any) -> None:
        """A settings dialog: its save reloads at once, and it hears what was applied."""
        dialog.saved.connect(self.reload)
        self.config_did_reload.connect(dialog.applied)
        self.reload_failed.connect(dialog.apply_failed)

    # ------------------------------------------------------------ reload

    def reload(self) -> None:
        if self._busy:
            self._again = True  # one more right after: the file changed while we were reading it
            return
        self._busy = True
        self._debounce.stop()
        ctx, overrides = self.app.ctx, self.overrides
        status_watch = getattr(self.app, "status_watch", None)

        def load() -> _Loaded:
            """Core worker: the same thread that sends and polls, so the swap falls between two of them."""
            new = load_config(ctx.paths, ctx.env, overrides)
            changed = changed_keys(ctx.config, new)
            scrubber = None
            if SCRUB in concerns(changed):
                from reporter_app.collect import make_scrubber

                scrubber = make_scrubber(new)
            ctx.config = new
            if TRACKER in concerns(changed):
                # AppContext caches the tracker built from the old settings; the next send builds a new one.
                ctx._trackers.clear()
            if STATUS in concerns(changed) and status_watch is not None:
                status_watch._tracking = None  # rebuilt on its next round: cadence, SLA policy, "me"
            return _Loaded(new, changed, scrubber)

        self.app.core.run(self, load, self._loaded, self._failed)

    def _done(self) -> None:
        self._busy = False
        if self._again:
            self._again = False
            self.reload()

    def _failed(self, exc: BaseException) -> None:
        message = str(exc) if isinstance(exc, ConfigError) else f"{type(exc).__name__}: {exc}"
        if message != self._last_error:  # an editor's half-saved file: say it once, not at every event
            log.warning("configuration not applied, the previous one stays: %s", message)
            self.app.face.notify("Settings not applied", f"{message}\nThe previous settings stay in use.", True)
        self._last_error = message
        self.reload_failed.emit(message)
        self._done()

    def _loaded(self, loaded: _Loaded) -> None:
        self._last_error = ""
        result = Reloaded(changed=loaded.changed)
        parts = concerns(loaded.changed)
        if HOTKEY in parts:
            result.problems += self._rebind(str(loaded.config.get("hotkey.report") or ""))
        result.hotkey_state = str(getattr(self.app, "hotkey_state", ""))
        flow = getattr(self.app, "_flow", None)  # not built yet: it reads the new config when it is
        if flow is not None:
            if SCRUB in parts:
                self._new_scrubber(flow, loaded.scrubber)
            if FORM in parts:
                apply_to_form(flow.form, loaded.config)
        if STATUS in parts and getattr(self.app, "status_watch", None) is not None:
            self.app.status_watch.poll_now()
        if DETECT in parts:
            self._restart_error_watch()
        if REPLAY in parts and getattr(self.app, "replay", None) is not None:
            self._restart_replay(loaded.config)
        log.info("configuration reloaded: %s", ", ".join(sorted(loaded.changed)) or "nothing changed")
        from ui.main import trace  # lazily: ui.main imports this module

        trace("config-reloaded", ",".join(sorted(loaded.changed)))
        self.config_did_reload.emit(result)
        self._done()

    # ------------------------------------------------------------ the parts

    def _rebind(self, text: str) -> list[str]:
        """Old grab released first, then the new one; if that fails, the old one is taken back."""
        app = self.app
        old: GlobalHotkey | None = app.hotkey
        old_text = str(old.shortcut) if old is not None else ""
        try:
            if old is not None and text and parse_shortcut(text) == old.shortcut:
                return []  # the same keys, written differently
        except HotkeyError:
            pass  # the loader checked the syntax; bind_global_hotkey says what is wrong anyway
        if old is not None:
            old.close()
            app.hotkey = None
        problems: list[str] = []
        if not text:
            app.hotkey_state = "turned off (hotkey.report = \"\")"
        else:
            try:
                app.hotkey = self._bind(text)
                app.hotkey_state = (f"{app.hotkey.shortcut} (works everywhere)" if app.hotkey.confirmed
                                    else f"{app.hotkey.shortcut} (waiting for the desktop to confirm it)")
            except HotkeyError as exc:
                log.info("global shortcut %s not bound: %s", text, exc)
                if old_text:
                    try:
                        app.hotkey = self._bind(old_text)
                    except HotkeyError as again:  # someone took it in between: nothing is bound now
                        log.info("global shortcut %s not bound again: %s", old_text, again)
                kept = f"{old_text} still works." if app.hotkey is not None else "Use the tray menu meanwhile."
                problems.append(f"The shortcut {text} could not be set: {exc} {kept}")
                app.hotkey_state = (f"{app.hotkey.shortcut} (works everywhere; {text} was not available)"
                                    if app.hotkey is not None else f"not bound: {exc}")
                app.face.notify("Shortcut not changed", problems[-1], True)
        app.actions.set_hotkey_text(str(app.hotkey.shortcut) if app.hotkey is not None else "")
        return problems

    def _bind(self, text: str) -> GlobalHotkey:
        app = self.app
        hotkey = bind_global_hotkey(text, app)
        hotkey.activated.connect(app._hotkey_pressed)  # the same path as the shortcut bound at start-up
        if hasattr(hotkey, "failed") and hasattr(app, "_hotkey_failed"):
            # The Wayland portal answers later (ui/hotkey_portal.py): wired as at start-up. Its refusal arrives
            # after the old binding is gone, so there it is said, not undone.
            hotkey.bound.connect(lambda trigger: setattr(app, "hotkey_state", f"{trigger} (set by the desktop)"))
            hotkey.failed.connect(app._hotkey_failed)
        return hotkey

    def _new_scrubber(self, flow: Any, scrubber: Any) -> None:
        flow.scrubber = scrubber
        recorder = flow.activity
        if recorder is None:
            return
        # Events already kept were scrubbed by the old rules (and counted by the old limit): start afresh.
        notifier = getattr(flow, "_activity_notifier", None)
        if notifier is not None:
            notifier.setEnabled(False)
            notifier.deleteLater()
            flow._activity_notifier = None
        timer = getattr(flow, "_activity_timer", None)
        if timer is not None:
            timer.stop()
        recorder.close()
        flow.activity = flow._start_activity()

    def _restart_error_watch(self) -> None:
        app = self.app
        old = app.error_watch
        if old is None and app.status_watch._stopped:
            return  # the watchers have not started yet: they will start with the new config
        app.error_watch = None

        def start_new(_: object = None) -> None:
            if old is not None:
                old.deleteLater()
            app.error_watch = app._start_error_watch()

        if old is None:
            start_new()
            return
        # stop() joins the watcher thread (up to a second): not on the GUI thread.
        run_in_background(self, old.stop, start_new)

    def _restart_replay(self, config: Config) -> None:
        from capture.replay import OFF, UNAVAILABLE, settings_from

        controller = self.app.replay
        controller.settings = settings_from({key: config.get(f"replay.{key}")
                                             for key in ("seconds", "fps", "monitor", "exclude_windows")})
        if controller.state == UNAVAILABLE:
            return
        was_on = controller.state != OFF
        recorder, controller.recorder = controller.recorder, None
        controller.turn_off()
        want_on = bool(config.get("replay.enabled")) or was_on

        def restart(_: object = None) -> None:
            if want_on:
                controller.turn_on()

        if recorder is None:
            restart()
        else:
            run_in_background(self, recorder.stop, restart)  # joins the recorder thread: off the GUI thread


def apply_to_form(form: Any, config: Config) -> None:
    """The pre-created form takes the new role, components, priority rules and default impact."""
    from reporter_app.model import Impact, Role
    from reporter_app.severity import rules_from_config

    form.role = Role(config.get("reporter.role"))
    form.rules = tuple(rules_from_config(config.get("priority.rules")))
    default = str(config.get("report.default_impact") or "")
    form.default_impact = Impact(default) if default else None
    form.priority_combo.setEnabled(form.role.may_triage)
    form.priority_combo.setToolTip("" if form.role.may_triage else "The team sets the priority; this is the suggestion.")
    components = [str(c) for c in config.get("report.components") or []]
    combo = form.component_combo
    chosen = combo.currentData()
    combo.blockSignals(True)  # not a change the reporter made: no draft save
    combo.clear()
    combo.addItem("(not sure)", "")
    for name in components:
        combo.addItem(name, name)
    combo.setCurrentIndex(max(0, combo.findData(chosen)))
    combo.blockSignals(False)
    form.component_label.setVisible(bool(components))
    combo.setVisible(bool(components))
    form._update_priority()

