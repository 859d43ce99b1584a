"""Saved settings apply to the running app without a restart (ui/reload.py): a real ReporterApp with its real X11
key grab on Xvfb, the real settings dialog, real files; keys pressed with xdotool."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytestqt.exceptions import TimeoutError
from pytestqt.qtbot import QtBot

from reporter_app.app import AppContext
from reporter_app.config import edit
from tests.support.display import XServer
from ui.main import ReporterApp
from ui.reload import ConfigReloader, Reloaded, changed_keys, concerns
from ui.settings import SettingsDialog

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support (propagateSizeHints|raise)\(\)")


@pytest.fixture
def app(qtbot: QtBot, xvfb: XServer, reporter_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ReporterApp]:
    # The dialog's Diagnostics tab grabs a screenshot on a pool thread, whose grabber (capture/screenshot.py keeps
    # one per thread, open) outlives the test as an unclosed X socket; not what these tests are about.
    monkeypatch.setattr("ui.settings.doctor_report", lambda ctx: "ok   (doctor not run in this test)")
    (reporter_home / "config.toml").write_text('# mine: keep me\n[reporter]\nname = "Ada"\n', encoding="utf-8")
    reporter = ReporterApp(AppContext.load(), force_window=True)
    reporter.flow  # noqa: B018 - the pre-created form, as after start-up
    try:
        yield reporter
    finally:
        reporter.flow.form.hide()
        reporter.status_watch.stop()
        if reporter.hotkey is not None:
            reporter.hotkey.close()
        reporter.flow.shutdown()
        reporter.core.shutdown()
        reporter.face.hide()
        reporter.deleteLater()


def _press(xvfb: XServer, keys: str) -> None:
    xvfb.run("xdotool", "key", "--clearmodifiers", keys)


def _settings(qtbot: QtBot, app: ReporterApp) -> SettingsDialog:
    app.show_settings()
    dialog = app._windows["settings"]
    qtbot.waitUntil(lambda: dialog.save_button.isEnabled() and bool(dialog.tracker_fields), timeout=5000)
    return dialog


def _form_opens(qtbot: QtBot, app: ReporterApp, xvfb: XServer, keys: str) -> bool:
    _press(xvfb, keys)
    try:
        qtbot.waitUntil(app.flow.form.isVisible, timeout=2000)
    except TimeoutError:
        return False
    return True


def test_a_new_shortcut_and_log_source_saved_in_settings_are_used_without_restart(
        qtbot: QtBot, app: ReporterApp, xvfb: XServer, reporter_home: Path, tmp_path: Path) -> None:
    log_file = tmp_path / "logs" / "shop.log"
    log_file.parent.mkdir()
    log_file.write_text("started\nERROR payment refused\n", encoding="utf-8")
    assert str(app.hotkey.shortcut) == "Ctrl+Alt+B"  # type: ignore[union-attr]
    dialog = _settings(qtbot, app)
    dialog.fields["hotkey.report"].editor.setText("Ctrl+Alt+R")  # type: ignore[attr-defined]
    dialog._add_log_row({"name": "shop", "path": str(log_file), "lines": 50})
    with qtbot.waitSignal(app.reloader.config_did_reload, timeout=5000) as reloaded:
        dialog.save()
    result: Reloaded = reloaded.args[0]
    assert {"hotkey.report", "logs"} <= result.changed and result.problems == []
    assert "no restart needed" in dialog.status.text()
    assert "Shortcut now: Ctrl+Alt+R" in dialog.info.text()
    assert "Ctrl+Alt+R" in app.actions.report.text()
    saved = (reporter_home / "config.toml").read_text(encoding="utf-8")
    assert saved.startswith('# mine: keep me\n[reporter]\nname = "Ada"\n')

    assert not _form_opens(qtbot, app, xvfb, "ctrl+alt+b"), "the old shortcut must be released"
    assert _form_opens(qtbot, app, xvfb, "ctrl+alt+r")
    # The capture that the new shortcut started reads the new log source.
    qtbot.waitUntil(lambda: app.flow._evidence is not None, timeout=5000)
    logs = {excerpt.name: excerpt.text for excerpt in app.flow._evidence.logs}
    assert "ERROR payment refused" in logs["shop"]


def test_a_taken_shortcut_keeps_the_old_one_and_says_so(
        qtbot: QtBot, app: ReporterApp, xvfb: XServer) -> None:
    from ui.hotkey import parse_shortcut
    from ui.hotkey_x11 import X11Hotkey

    other = X11Hotkey(parse_shortcut("Ctrl+Alt+T"))  # another program holds it
    try:
        dialog = _settings(qtbot, app)
        dialog.fields["hotkey.report"].editor.setText("Ctrl+Alt+T")  # type: ignore[attr-defined]
        with qtbot.waitSignal(app.reloader.config_did_reload, timeout=5000) as reloaded:
            dialog.save()
        result: Reloaded = reloaded.args[0]
        assert result.problems and "Ctrl+Alt+T could not be set" in result.problems[0]
        assert "Ctrl+Alt+B still works" in result.problems[0]
        assert "Ctrl+Alt+T could not be set" in dialog.status.text()
        assert "Ctrl+Alt+T could not be set" in app.face.window.message.text()  # type: ignore[union-attr]
        assert str(app.hotkey.shortcut) == "Ctrl+Alt+B"  # type: ignore[union-attr]
        assert _form_opens(qtbot, app, xvfb, "ctrl+alt+b")
    finally:
        other.close()


def test_a_config_set_while_running_is_applied_tracker_privacy_form_and_poller(
        qtbot: QtBot, app: ReporterApp) -> None:
    old_tracker = app.ctx.tracker()
    old_scrubber = app.flow.scrubber
    app.status_watch.start()  # as a moment after start-up
    qtbot.waitUntil(lambda: app.status_watch._tracking is not None, timeout=5000)
    old_tracking = app.status_watch._tracking
    doc = edit.read_document(app.ctx.paths.user_config)
    edit.set_value(doc, "tracker.key_prefix", "BUG")
    edit.set_value(doc, "privacy.scrub_ips", True)
    edit.set_value(doc, "reporter.role", "stakeholder")
    edit.set_value(doc, "report.components", ["Checkout", "Search"])
    edit.set_value(doc, "status.poll_interval_seconds", 60)
    # Written behind the app's back, as `reporter-app config set` does: the file watcher picks it up.
    with qtbot.waitSignal(app.reloader.config_did_reload, timeout=5000):
        edit.write_document(app.ctx.paths, doc, app.ctx.env)
    tracker = app.ctx.tracker()
    assert tracker is not old_tracker and tracker.prefix == "BUG"  # type: ignore[attr-defined]
    assert old_scrubber.scrub("from 10.1.2.3").text == "from 10.1.2.3"
    assert app.flow.scrubber.scrub("from 10.1.2.3").text == "from [REDACTED:ipv4]"
    form = app.flow.form
    assert not form.priority_combo.isEnabled()  # a stakeholder does not set the priority
    assert [form.component_combo.itemText(i) for i in range(form.component_combo.count())] == \
        ["(not sure)", "Checkout", "Search"]
    assert app.ctx.config.get("status.poll_interval_seconds") == 60
    # Rebuilt by the round the reload started, not at the next due time.
    qtbot.waitUntil(lambda: app.status_watch._tracking not in (None, old_tracking), timeout=5000)
    assert app.status_watch._tracking.poller.cadence.base_seconds == 60  # type: ignore[attr-defined]


@pytest.mark.expect_log_warning(match="configuration not applied", logger="ui.reload")
def test_a_broken_file_is_not_applied_and_the_app_keeps_its_settings(qtbot: QtBot, app: ReporterApp) -> None:
    before = app.ctx.config
    with qtbot.waitSignal(app.reloader.reload_failed, timeout=5000) as failed:
        app.ctx.paths.user_config.write_text("[hotkey]\nreport = \n", encoding="utf-8")  # an editor, mid-save
    assert "not valid TOML" in failed.args[0]
    assert app.ctx.config is before and str(app.hotkey.shortcut) == "Ctrl+Alt+B"  # type: ignore[union-attr]
    assert "Settings not applied" in app.face.window.message.text()  # type: ignore[union-attr]


def test_changed_keys_and_what_they_concern(reporter_home: Path) -> None:
    old = AppContext.load().config
    (reporter_home / "config.toml").write_text(
        '[hotkey]\nreport = "F9"\n[capture]\nscreenshot = "none"\n[[logs]]\nname = "a"\npath = "/a"\n',
        encoding="utf-8")
    new = AppContext.load().config
    keys = changed_keys(old, new)
    assert keys == {"hotkey.report", "capture.screenshot", "logs"}
    assert concerns(keys) == {"hotkey", "detect"}  # the screenshot mode is read at each capture
    assert changed_keys(new, AppContext.load().config) == set()


def test_a_reload_with_nothing_changed_touches_nothing(qtbot: QtBot, app: ReporterApp) -> None:
    hotkey, scrubber = app.hotkey, app.flow.scrubber
    reloader = ConfigReloader(app, watch=False)
    seen: list[Any] = []
    reloader.config_did_reload.connect(seen.append)
    reloader.reload()
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)
    assert seen[0].changed == set() and app.hotkey is hotkey and app.flow.scrubber is scrubber
    time.sleep(0)  # nothing else pending
