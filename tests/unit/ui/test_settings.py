"""Settings: fields generated from the backend's declared options, secrets to the keyring, locked keys
read-only, validated atomic save, Test connection off the GUI thread."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QLabel, QLineEdit
from pytestqt.qtbot import QtBot

from reporter_app.app import AppContext
from ui.core_worker import CoreWorker
from ui.settings import SettingsDialog
from reporter_app.config import edit
from ui.settings_model import SettingsChange, apply_change

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support (propagateSizeHints|raise)\(\)")


@pytest.fixture
def ctx(reporter_home: Path) -> AppContext:
    (reporter_home / "config.toml").write_text('# mine\n[reporter]\nname = "Ada"\n', encoding="utf-8")
    return AppContext.load()


@pytest.fixture
def dialog(qtbot: QtBot, ctx: AppContext) -> Iterator[SettingsDialog]:
    core = CoreWorker()
    dialog = SettingsDialog(ctx, core, "Ctrl+Alt+B (works everywhere)")
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.save_button.isEnabled() and bool(dialog.tracker_fields), timeout=5000)
    yield dialog
    core.shutdown()


def test_only_changed_values_are_written(ctx: AppContext) -> None:
    doc = edit.parse_document('# mine\n[reporter]\nname = "Ada"  # me\n')
    new = apply_change(doc, ctx.config, SettingsChange(values={"reporter.name": "Ada", "reporter.email": "a@x.org",
                                                               "privacy.scrub_ips": False}))
    # scrub_ips is already false by default; the comments stay where they were
    assert edit.render(new) == '# mine\n[reporter]\nname = "Ada"  # me\nemail = "a@x.org"\n'
    assert edit.render(doc) == '# mine\n[reporter]\nname = "Ada"  # me\n'


def test_tracker_fields_come_from_the_backend_declaration(qtbot: QtBot, dialog: SettingsDialog) -> None:
    assert "tracker.key_prefix" in dialog.tracker_fields  # local's own option
    dialog.backend_combo.setCurrentIndex(dialog.backend_combo.findData("redmine"))
    qtbot.waitUntil(lambda: "tracker.api_key" in dialog.tracker_fields, timeout=5000)
    secret = dialog.tracker_fields["tracker.api_key"].editor
    assert isinstance(secret, QLineEdit) and secret.echoMode() == QLineEdit.EchoMode.Password
    assert "tracker.key_prefix" not in dialog.tracker_fields
    assert secret.accessibleName() == "Api key"


def test_save_validates_stores_the_secret_in_the_keyring_and_writes_the_file(
        qtbot: QtBot, dialog: SettingsDialog, ctx: AppContext, monkeypatch: pytest.MonkeyPatch) -> None:
    stored: list[tuple[str, str, str]] = []
    monkeypatch.setattr("reporter_app.credentials.store_token", lambda *args: stored.append(args))
    dialog.backend_combo.setCurrentIndex(dialog.backend_combo.findData("redmine"))
    qtbot.waitUntil(lambda: "tracker.api_key" in dialog.tracker_fields, timeout=5000)
    dialog.tracker_fields["tracker.url"].editor.setText("https://redmine.example.com")  # type: ignore[attr-defined]
    dialog.tracker_fields["tracker.project"].editor.setText("bugs")  # type: ignore[attr-defined]
    dialog.tracker_fields["tracker.api_key"].editor.setText("s3cret-token")  # type: ignore[attr-defined]
    dialog.fields["hotkey.report"].editor.setText("Ctrl+Alt+R")  # type: ignore[attr-defined]
    with qtbot.waitSignal(dialog.saved, timeout=5000):
        dialog.save()
    text = ctx.paths.user_config.read_text(encoding="utf-8")
    assert "s3cret-token" not in text
    saved = tomllib.loads(text)
    assert saved["tracker"]["backend"] == "redmine" and saved["tracker"]["url"] == "https://redmine.example.com"
    assert saved["hotkey"]["report"] == "Ctrl+Alt+R" and saved["reporter"]["name"] == "Ada"
    assert stored == [("redmine", "https://redmine.example.com", "s3cret-token")]
    assert AppContext.load().config.get("tracker.backend") == "redmine"


def test_a_bad_value_is_refused_with_the_loaders_line_and_the_file_is_kept(
        qtbot: QtBot, dialog: SettingsDialog, ctx: AppContext) -> None:
    before = ctx.paths.user_config.read_text(encoding="utf-8")
    dialog.fields["hotkey.report"].editor.setText("Ctrl+Alt+")  # type: ignore[attr-defined]
    dialog.save()
    qtbot.waitUntil(lambda: dialog.status.text().startswith("Not saved"), timeout=5000)
    assert str(ctx.paths.user_config) in dialog.status.text()
    assert "hotkey.report" in dialog.status.text()
    assert ctx.paths.user_config.read_text(encoding="utf-8") == before


def test_test_connection_runs_the_trackers_check(qtbot: QtBot, dialog: SettingsDialog) -> None:
    dialog.test_connection()
    qtbot.waitUntil(lambda: dialog.check_output.toPlainText().startswith("ok"), timeout=5000)
    assert "local folder" in dialog.check_output.toPlainText()


def test_logs_table_round_trips_and_keeps_hidden_fields(qtbot: QtBot, dialog: SettingsDialog) -> None:
    dialog._add_log_row({"name": "myapp", "path": "~/logs/*.log", "lines": 300, "minutes": 5})
    assert dialog.change().logs == [{"name": "myapp", "path": "~/logs/*.log", "lines": 300, "minutes": 5}]


def test_locked_keys_are_read_only_and_say_why(qtbot: QtBot, reporter_home: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    system = tmp_path / "system.toml"
    system.write_text('[admin]\nlocked = ["privacy.scrub_emails", "hotkey.report"]\n', encoding="utf-8")
    monkeypatch.setenv("REPORTER_APP_SYSTEM_CONFIG", str(system))
    core = CoreWorker()
    dialog = SettingsDialog(AppContext.load(), core, "")
    qtbot.addWidget(dialog)
    try:
        editor = dialog.fields["privacy.scrub_emails"]
        assert editor.locked and not editor.editor.isEnabled()
        notes = [label.text() for label in dialog.findChildren(QLabel) if label.objectName().startswith("locked-")]
        assert "🔒 Locked by your administrator" in notes and len(notes) == 2
        assert "privacy.scrub_emails" not in dialog.change().values
    finally:
        core.shutdown()
