"""One editor widget per declared `Option`, chosen by its type: the settings dialog is generated, not hand-laid.

Secrets get a password box that is never filled from anywhere (the keyring is not read to show
it); an empty secret box means "keep what is stored". A key locked by the administrator's
system file is shown read-only with who locked it.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from reporter_app.config import Option

LOCKED_TEXT = "Locked by your administrator"
# Where the key's last part alone would mislead ("Report:" for the shortcut).
LABELS = {"hotkey.report": "Report shortcut:", "report.default_impact": "Default impact:",
          "capture.activity_events": "Recent clicks kept:", "tracker.url": "Address (URL):"}


def _plain(text: str) -> str:
    return text.split(". ")[0].rstrip(".")  # the first sentence is the accessible description


class FieldEditor:
    """A widget for one option, and the typed value it holds."""

    def __init__(self, option: Option, value: Any, locked_by: str = "") -> None:
        self.option = option
        self.locked = bool(locked_by)
        self.editor = self._make(option, value)
        self.editor.setObjectName(f"field-{option.key}")
        self.editor.setAccessibleName(self.label().rstrip(":"))
        self.editor.setAccessibleDescription(_plain(option.description))
        self.editor.setToolTip(option.description)
        self.widget: QWidget = self.editor
        if self.locked:
            self.editor.setEnabled(False)
            self.editor.setToolTip(f"{LOCKED_TEXT} ({locked_by}). {option.description}")
            self.editor.setAccessibleDescription(f"{LOCKED_TEXT}. {_plain(option.description)}")
            # A row: the disabled editor, then the reason it is disabled, readable and not only a tooltip.
            self.widget = QWidget()
            row = QHBoxLayout(self.widget)
            row.setContentsMargins(0, 0, 0, 0)
            row.addWidget(self.editor, 1)
            note = QLabel(f"🔒 {LOCKED_TEXT}")
            note.setObjectName(f"locked-{option.key}")
            note.setToolTip(locked_by)
            row.addWidget(note)

    def label(self) -> str:
        if self.option.key in LABELS:
            return LABELS[self.option.key]
        name = self.option.key.rpartition(".")[2].replace("_", " ")
        return f"{name[:1].upper()}{name[1:]}:"

    def _make(self, option: Option, value: Any) -> QWidget:
        kind = option.type if isinstance(option.type, type) else option.type[0]
        if option.secret:
            box = QLineEdit()
            box.setEchoMode(QLineEdit.EchoMode.Password)
            box.setPlaceholderText("Stored in the keyring; type a new one to replace it")
            return box
        if option.choices:
            combo = QComboBox()
            for choice in option.choices:
                combo.addItem(choice or "(none)", choice)
            combo.setCurrentIndex(max(0, combo.findData(value if value is not None else "")))
            return combo
        if kind is bool:
            check = QCheckBox(_plain(option.description))
            check.setChecked(bool(value))
            return check
        if kind is int:
            spin = QSpinBox()
            spin.setRange(int(option.minimum if option.minimum is not None else -1_000_000_000),
                          int(option.maximum if option.maximum is not None else 1_000_000_000))
            spin.setValue(int(value or 0))
            return spin
        if kind is float:
            dspin = QDoubleSpinBox()
            dspin.setDecimals(1)
            dspin.setRange(option.minimum if option.minimum is not None else -1e9,
                           option.maximum if option.maximum is not None else 1e9)
            dspin.setValue(float(value or 0.0))
            return dspin
        line = QLineEdit()
        if kind is list:
            line.setText(", ".join(str(item) for item in value or ()))
            line.setPlaceholderText("comma-separated")
        else:
            line.setText("" if value is None else str(value))
        return line

    def value(self) -> Any:
        editor = self.editor
        if isinstance(editor, QCheckBox):
            return editor.isChecked()
        if isinstance(editor, QComboBox):
            return editor.currentData()
        if isinstance(editor, QSpinBox):
            return editor.value()
        if isinstance(editor, QDoubleSpinBox):
            return editor.value()
        assert isinstance(editor, QLineEdit)
        kind = self.option.type if isinstance(self.option.type, type) else self.option.type[0]
        if kind is list:
            return [part.strip() for part in editor.text().split(",") if part.strip()]
        return editor.text()
