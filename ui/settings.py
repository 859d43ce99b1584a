"""Settings (first version): where the config lives, the hotkey state, and `reporter-app doctor`.

Editing the tracker and credentials from here is not built yet; the dialog says how to do it.
Doctor talks to the tracker and the keyring, so it runs on the core worker.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from ui.core_worker import CoreWorker


def doctor_report(ctx: Any) -> str:
    from reporter_app.doctor import run_doctor

    files = [str(p) for p in (ctx.paths.system_config, ctx.paths.user_config) if p.exists()]
    lines = [f"ok   config: {', '.join(files) if files else 'built-in defaults'}"]
    lines += [str(line) for line in run_doctor(ctx)]
    return "\n".join(lines)


class SettingsDialog(QDialog):
    def __init__(self, ctx: Any, core: CoreWorker, hotkey_state: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.core = core
        self.setWindowTitle("Reporter settings")
        self.setAccessibleName("Reporter settings")
        self.resize(640, 420)
        layout = QVBoxLayout(self)
        info = QLabel(
            f"<b>Config file:</b> {ctx.paths.user_config}<br>"
            f"<b>Data folder:</b> {ctx.paths.data_dir}<br>"
            f"<b>Shortcut:</b> {hotkey_state}<br>"
            "Edit the config file (or run <code>reporter-app config init</code>), then restart the app. "
            "Store a tracker token with <code>reporter-app login</code>.")
        info.setWordWrap(True)
        info.setAccessibleName("Where the settings live")
        layout.addWidget(info)
        self.output = QPlainTextEdit()
        self.output.setReadOnly(True)
        self.output.setFont(QFont("monospace"))
        self.output.setAccessibleName("Doctor results")
        layout.addWidget(self.output, 1)
        self.check_button = QPushButton("&Check again (reporter-app doctor)")
        self.check_button.clicked.connect(self.run_checks)
        layout.addWidget(self.check_button)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.run_checks()

    def run_checks(self) -> None:
        self.check_button.setEnabled(False)
        self.output.setPlainText("Checking…")
        self.core.run(self, lambda: doctor_report(self.ctx), self._show, lambda exc: self._show(f"FAIL doctor: {exc}"))

    def _show(self, text: str) -> None:
        self.output.setPlainText(text)
        self.check_button.setEnabled(True)
