"""The details pane of My reports: the selected ticket with the tracker's comments, "Add information"
(a comment, sent on the core worker) and "Look up a ticket" by key for support staff."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ui.core_worker import CoreWorker
from ui.my_reports_data import Row, add_information, look_up


def describe(row: Row) -> str:
    """The pane's HTML for one row (escaped: titles and comments come from the tracker)."""
    e = html.escape
    head = f"<b>{e(row.key or 'Not filed yet')}</b> · {e(row.title)}"
    facts = [f"Status: {e(row.status)}"]
    if row.assignee:
        facts.append(f"assigned to {e(row.assignee)}")
    if row.sla:
        facts.append(f"SLA: {e(row.sla)}")
    if row.spread:
        facts.append(e(row.spread))
    parts = [head, " · ".join(facts)]
    if row.reason:
        parts.append(f"<span style='color:#b00020'>{e(row.reason)}</span>")
    if row.comment_list:
        parts.append(f"<b>Comments ({len(row.comment_list)})</b>")
        for comment in row.comment_list:
            parts.append(f"<i>{e(comment.author or 'someone')}, {e(comment.when)}</i><br>"
                         + e(comment.body).replace("\n", "<br>"))
    elif row.key:
        parts.append("No comments yet.")
    return "<br>".join(parts)


class ReportDetails(QWidget):
    comment_added = Signal()
    looked_up = Signal(str)  # the key now followed

    def __init__(self, ctx: Any, core: CoreWorker, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.core = core
        self.row: Row | None = None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.view = QTextBrowser()
        self.view.setAccessibleName("Details of the selected report")
        self.view.setOpenExternalLinks(True)
        layout.addWidget(self.view, 3)
        side = QVBoxLayout()
        add_box = QGroupBox("Add information")
        add_layout = QVBoxLayout(add_box)
        self.comment_edit = QPlainTextEdit()
        self.comment_edit.setAccessibleName("Information to add to the ticket")
        self.comment_edit.setPlaceholderText("Anything new: when it happens, a workaround…")
        self.comment_edit.setTabChangesFocus(True)
        self.comment_edit.setMaximumHeight(self.comment_edit.fontMetrics().lineSpacing() * 4 + 12)
        self.add_button = QPushButton("Add to the &ticket")
        self.add_button.setAccessibleName("Add this information to the selected ticket")
        self.add_button.clicked.connect(self.add_comment)
        add_layout.addWidget(self.comment_edit)
        add_layout.addWidget(self.add_button)
        side.addWidget(add_box)
        look_box = QGroupBox("Look up a ticket")
        look_layout = QHBoxLayout(look_box)
        self.key_edit = QLineEdit()
        self.key_edit.setAccessibleName("Ticket key to look up")
        self.key_edit.setPlaceholderText("e.g. APP-42")
        self.key_edit.returnPressed.connect(self.look_up)
        self.look_button = QPushButton("&Look up")
        self.look_button.clicked.connect(self.look_up)
        look_layout.addWidget(self.key_edit, 1)
        look_layout.addWidget(self.look_button)
        side.addWidget(look_box)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Result of the last action")
        side.addWidget(self.message)
        side.addStretch(1)
        layout.addLayout(side, 2)
        self.show_row(None)

    def show_row(self, row: Row | None) -> None:
        self.row = row
        self.view.setHtml(describe(row) if row else "Select a report to see its details and comments.")
        self.add_button.setEnabled(bool(row and row.key))
        self.comment_edit.setEnabled(bool(row and row.key))

    def add_comment(self) -> None:
        row, text = self.row, self.comment_edit.toPlainText().strip()
        if row is None or not row.key or not text:
            self.message.setText("Type the information to add first." if row and row.key else "")
            return
        self.add_button.setEnabled(False)
        self.message.setText(f"Adding to {row.key}…")
        self.core.run(self, lambda: add_information(self.ctx, row, text), lambda _: self._added(row.key),
                      lambda exc: self._failed(f"Not added to {row.key}: {exc}"))

    def _added(self, key: str) -> None:
        self.comment_edit.clear()
        self.add_button.setEnabled(True)
        self.message.setText(f"Added to {key}.")
        self.comment_added.emit()

    def _failed(self, text: str) -> None:
        self.add_button.setEnabled(bool(self.row and self.row.key))
        self.look_button.setEnabled(True)
        self.message.setText(text)

    def look_up(self) -> None:
        key = self.key_edit.text().strip()
        if not key:
            return
        self.look_button.setEnabled(False)
        self.message.setText(f"Looking up {key}…")
        self.core.run(self, lambda: look_up(self.ctx, key), lambda text: self._found(key, text),
                      lambda exc: self._failed(str(exc)))

    def _found(self, key: str, text: str) -> None:
        self.look_button.setEnabled(True)
        self.key_edit.clear()
        self.message.setText("Now followed: it is listed below your reports.")
        self.view.setPlainText(text)
        self.looked_up.emit(key)
