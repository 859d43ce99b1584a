"""Settings: tracker (fields generated from the backend's declared options), credentials, hotkey,
log sources, privacy; "Test connection"; and `reporter-app doctor`.

Nothing here blocks the GUI thread: reading the user file, importing a backend, the keyring,
the tracker check and the save all run off it (ui/background.py for pure work, the core worker
for what touches the AppContext). Saving edits the user's file in place, keeping their comments
(ui/settings_model.py, reporter_app/config/edit.py), validates it by loading it first and shows the
loader's one-line error instead of writing a bad file. After a save the running app applies the new
settings at once (ui/reload.py); `applied` / `apply_failed` tell the dialog how that went.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from reporter_app.config import Config, Option
from ui.background import run_in_background
from ui.core_worker import CoreWorker
from ui.settings_fields import LOCKED_TEXT, FieldEditor
from ui.settings_model import Document, SettingsChange, check_connection, field_options, read_document, save

GENERAL_KEYS = ("reporter.name", "reporter.email", "reporter.role", "hotkey.report", "capture.screenshot",
                "report.default_impact")
PRIVACY_KEYS = ("privacy.scrub_emails", "privacy.scrub_ips", "privacy.scrub_home", "privacy.review_before_send",
                "capture.activity_events")
LOG_COLUMNS = ("name", "path", "lines")


def doctor_report(ctx: Any) -> str:
    from reporter_app.doctor import run_doctor

    files = [str(p) for p in (ctx.paths.system_config, ctx.paths.user_config) if p.exists()]
    lines = [f"ok   config: {', '.join(files) if files else 'built-in defaults'}"]
    lines += [str(line) for line in run_doctor(ctx)]
    return "\n".join(lines)


def _backend_options(name: str) -> tuple[Option, ...]:
    from reporter_app.trackers import load_backend

    return tuple(load_backend(name).options)


class SettingsDialog(QDialog):
    saved = Signal()  # settings_did_save: the running app reloads its config (ui/reload.py)

    def __init__(self, ctx: Any, core: CoreWorker, hotkey_state: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.core = core
        self.config: Config = ctx.config
        # The user's file, read on a worker when the dialog opens: a file that is not TOML is said at once.
        # A save reads it again (an edit made meanwhile in an editor is kept).
        self.document: Document | None = None
        self.fields: dict[str, FieldEditor] = {}
        self.tracker_fields: dict[str, FieldEditor] = {}
        self.setWindowTitle("Reporter settings")
        self.setAccessibleName("Reporter settings")
        self.resize(720, 560)
        layout = QVBoxLayout(self)
        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Settings sections")
        self.tabs.addTab(self._general_tab(hotkey_state), "&General")
        self.tabs.addTab(self._tracker_tab(), "&Tracker")
        self.tabs.addTab(self._logs_tab(), "&Logs")
        self.tabs.addTab(self._keyed_tab(PRIVACY_KEYS), "&Privacy")
        self.tabs.addTab(self._doctor_tab(), "&Diagnostics")
        layout.addWidget(self.tabs, 1)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setObjectName("settings-status")
        self.status.setAccessibleName("Settings status")
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.status)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Close)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setEnabled(False)  # until the user's file is read
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        run_in_background(self, lambda: read_document(ctx.paths.user_config), self._document_read,
                          lambda exc: self._show_status(f"Cannot read {ctx.paths.user_config}: {exc}", error=True))
        self.run_checks()

    # ------------------------------------------------------------------ building

    def _field(self, option: Option, value: Any) -> FieldEditor:
        return FieldEditor(option, value, self.config.locked_by(option.key) if self.config.is_locked(option.key) else "")

    def _keyed_tab(self, keys: tuple[str, ...], form: QFormLayout | None = None) -> QWidget:
        page = QWidget()
        form = form or QFormLayout()
        for key in keys:
            editor = self._field(self.config.options[key], self.config.get(key))
            self.fields[key] = editor
            label = QLabel(editor.label())
            label.setBuddy(editor.editor)
            form.addRow(label, editor.widget)
        page.setLayout(form)
        return page

    def _general_tab(self, hotkey_state: str) -> QWidget:
        form = QFormLayout()
        info = QLabel(self._info_text(hotkey_state))
        self.info = info
        info.setWordWrap(True)
        info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow(info)
        return self._keyed_tab(GENERAL_KEYS, form)

    def _tracker_tab(self) -> QWidget:
        page = QWidget()
        outer = QVBoxLayout(page)
        top = QFormLayout()
        self.backend_combo = QComboBox()
        self.backend_combo.setAccessibleName("Tracker")
        from reporter_app.trackers import BACKENDS  # a dict of dotted names: no backend module is imported

        for name in BACKENDS:
            self.backend_combo.addItem(name, name)
        self.backend_combo.setCurrentIndex(max(0, self.backend_combo.findData(self.config.get("tracker.backend"))))
        if self.config.is_locked("tracker.backend"):
            self.backend_combo.setEnabled(False)
            self.backend_combo.setToolTip(f"{LOCKED_TEXT} ({self.config.locked_by('tracker.backend')})")
        label = QLabel("T&racker:")
        label.setBuddy(self.backend_combo)
        top.addRow(label, self.backend_combo)
        outer.addLayout(top)
        # The backend's fields live in a scroll area: Jira declares a dozen.
        self.tracker_form_host = QScrollArea()
        self.tracker_form_host.setWidgetResizable(True)
        self.tracker_form_host.setAccessibleName("Tracker settings")
        outer.addWidget(self.tracker_form_host, 1)
        row = QHBoxLayout()
        self.test_button = QPushButton("Test &connection")
        self.test_button.setAccessibleName("Test the connection to the tracker with these settings")
        self.test_button.clicked.connect(self.test_connection)
        row.addWidget(self.test_button)
        row.addStretch(1)
        outer.addLayout(row)
        self.check_output = QPlainTextEdit()
        self.check_output.setReadOnly(True)
        self.check_output.setFont(QFont("monospace"))
        self.check_output.setAccessibleName("Connection test results")
        self.check_output.setMaximumHeight(self.check_output.fontMetrics().lineSpacing() * 6 + 12)
        outer.addWidget(self.check_output)
        self.backend_combo.currentIndexChanged.connect(lambda *_: self._load_backend_fields())
        self._load_backend_fields()
        return page

    def _load_backend_fields(self) -> None:
        name = str(self.backend_combo.currentData())
        # Importing a backend pulls in its HTTP stack: off the GUI thread.
        run_in_background(self, lambda: _backend_options(name), lambda options: self._show_backend_fields(name, options),
                          lambda exc: self._show_status(f"Cannot load the {name} tracker: {exc}", error=True))

    def _show_backend_fields(self, name: str, options: tuple[Option, ...]) -> None:
        if name != self.backend_combo.currentData():
            return  # the user picked another one meanwhile
        same = name == self.config.get("tracker.backend")
        form = QFormLayout()
        self.tracker_fields = {}
        for option in field_options(self.config, options):
            value = self.config.get(option.key) if same and not option.secret and option.key in self.config.options \
                else option.default
            editor = self._field(option, value)
            self.tracker_fields[option.key] = editor
            label = QLabel(editor.label())
            label.setBuddy(editor.editor)
            form.addRow(label, editor.widget)
        inner = QWidget()
        inner.setObjectName("tracker-fields")
        inner.setLayout(form)
        self.tracker_form_host.setWidget(inner)

    def _logs_tab(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        explain = QLabel("Log files whose last lines go with each report (scrubbed of secrets first).")
        explain.setWordWrap(True)
        layout.addWidget(explain)
        self.logs_table = QTableWidget(0, len(LOG_COLUMNS))
        self.logs_table.setHorizontalHeaderLabels(["Name", "File (glob, ~ allowed)", "Lines"])
        self.logs_table.setAccessibleName("Log sources")
        self.logs_table.horizontalHeader().setStretchLastSection(False)
        self.logs_table.horizontalHeader().setSectionResizeMode(1, self.logs_table.horizontalHeader().ResizeMode.Stretch)
        for entry in self.config.get("logs"):
            self._add_log_row(entry)
        layout.addWidget(self.logs_table, 1)
        row = QHBoxLayout()
        self.add_log_button = QPushButton("&Add a log file")
        self.add_log_button.clicked.connect(lambda: self._add_log_row({"name": "", "path": "", "lines": 500}))
        self.remove_log_button = QPushButton("&Remove selected")
        self.remove_log_button.clicked.connect(lambda: self.logs_table.removeRow(self.logs_table.currentRow()))
        row.addWidget(self.add_log_button)
        row.addWidget(self.remove_log_button)
        row.addStretch(1)
        layout.addLayout(row)
        if self.config.is_locked("logs"):
            for widget in (self.logs_table, self.add_log_button, self.remove_log_button):
                widget.setEnabled(False)
            layout.addWidget(QLabel(f"🔒 {LOCKED_TEXT} ({self.config.locked_by('logs')})"))
        return page

    def _add_log_row(self, entry: dict[str, Any]) -> None:
        index = self.logs_table.rowCount()
        self.logs_table.insertRow(index)
        name = QTableWidgetItem(str(entry.get("name", "")))
        # Keep fields the table does not show (journal, minutes, max_bytes...) as they were.
        name.setData(Qt.ItemDataRole.UserRole, dict(entry))
        self.logs_table.setItem(index, 0, name)
        self.logs_table.setItem(index, 1, QTableWidgetItem(str(entry.get("path", ""))))
        self.logs_table.setItem(index, 2, QTableWidgetItem(str(entry.get("lines", 500))))

    def _doctor_tab(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.output = QPlainTextEdit()
        self.output.setReadOnly(True)
        self.output.setFont(QFont("monospace"))
        self.output.setAccessibleName("Doctor results")
        layout.addWidget(self.output, 1)
        self.check_button = QPushButton("C&heck again (reporter-app doctor)")
        self.check_button.clicked.connect(self.run_checks)
        layout.addWidget(self.check_button)
        return page

    # ------------------------------------------------------------------ collecting

    def change(self) -> SettingsChange:
        change = SettingsChange()
        change.values["tracker.backend"] = str(self.backend_combo.currentData())
        for key, editor in {**self.fields, **self.tracker_fields}.items():
            if editor.locked:
                continue
            if editor.option.secret:
                if editor.value():
                    change.secrets[key] = str(editor.value())
                continue
            change.values[key] = editor.value()
        if not self.config.is_locked("logs"):
            change.logs = self._logs()
        return change

    def _logs(self) -> list[dict[str, Any]]:
        entries = []
        for index in range(self.logs_table.rowCount()):
            cells = [self.logs_table.item(index, c) for c in range(len(LOG_COLUMNS))]
            name, path, lines = (cell.text().strip() if cell else "" for cell in cells)
            if not name and not path:
                continue  # an empty row the user added and left
            first = cells[0]
            kept = dict(first.data(Qt.ItemDataRole.UserRole) or {}) if first else {}
            entry = {**kept, "name": name}
            entry.pop("path", None)
            if path:
                entry["path"] = path
            entry["lines"] = int(lines) if lines.isdigit() else lines  # a bad number is the loader's to explain
            entries.append({k: v for k, v in entry.items() if v != ""})
        return entries

    # ------------------------------------------------------------------ actions

    def _document_read(self, document: Document) -> None:
        self.document = document
        self.save_button.setEnabled(True)

    def _show_status(self, text: str, error: bool = False) -> None:
        self.status.setStyleSheet("color: #b00020; font-weight: bold;" if error else "")
        self.status.setText(text)

    def _busy(self, busy: bool) -> None:
        self.save_button.setEnabled(not busy and self.document is not None)
        self.test_button.setEnabled(not busy)

    def _info_text(self, hotkey_state: str) -> str:
        return f"Settings are saved in {self.ctx.paths.user_config}.\nShortcut now: {hotkey_state}"

    def save(self) -> None:
        if self.document is None:
            return
        change, current = self.change(), self.config
        paths, env = self.ctx.paths, dict(self.ctx.env)
        self._busy(True)
        self._show_status("Checking and saving…")
        run_in_background(self, lambda: save(paths, current, change, env), self._saved, self._save_failed)

    def _saved(self, config: Config) -> None:
        self.config = config
        self._busy(False)
        self._show_status(f"Saved to {self.ctx.paths.user_config}. Applying…")
        self.saved.emit()

    def applied(self, result: Any) -> None:
        """The running app took the new settings (ui/reload.Reloaded)."""
        if result.hotkey_state:
            self.info.setText(self._info_text(result.hotkey_state))
        if result.problems:
            self._show_status(" ".join(result.problems), error=True)
        else:
            self._show_status(f"Saved to {self.ctx.paths.user_config} and applied: no restart needed.")

    def apply_failed(self, message: str) -> None:
        self._show_status(f"Saved, but not applied: {message}", error=True)

    def _save_failed(self, exc: BaseException) -> None:
        self._busy(False)
        self._show_status(f"Not saved: {exc}", error=True)

    def test_connection(self) -> None:
        if self.document is None:
            return
        change, current = self.change(), self.config
        paths, env = self.ctx.paths, dict(self.ctx.env)
        self._busy(True)
        self.check_output.setPlainText("Testing…")
        run_in_background(self, lambda: check_connection(paths, current, change, env), self._tested,
                          lambda exc: self._tested([f"FAIL {exc}"]))

    def _tested(self, lines: list[str]) -> None:
        self._busy(False)
        self.check_output.setPlainText("\n".join(lines) or "ok   (the tracker reported nothing to check)")

    def run_checks(self) -> None:
        self.check_button.setEnabled(False)
        self.output.setPlainText("Checking…")
        self.core.run(self, lambda: doctor_report(self.ctx), self._show, lambda exc: self._show(f"FAIL doctor: {exc}"))

    def _show(self, text: str) -> None:
        self.output.setPlainText(text)
        self.check_button.setEnabled(True)
