"""My reports: every report from this machine, its ticket's status, and the outbox with Retry.

Statuses come from the tracker (network): fetched on the core worker, shown when they arrive.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui.core_worker import CoreWorker
from ui.outbox_worker import OutboxWorker

COLUMNS = ("Ticket", "Title", "Status", "Priority", "Last update", "Comments")
STATE_WORDS = {
    "queued": "Waiting to be sent",
    "sending": "Sending…",
    "waiting_retry": "Will retry",
    "needs_attention": "Needs attention",
}


@dataclass(frozen=True)
class Row:
    """One line of the table, computed on the worker (plain values only)."""

    report_id: str
    key: str
    url: str
    title: str
    status: str
    priority: str
    updated: str
    comments: int
    outbox_state: str
    reason: str  # why it waits, the tracker's refusal, or why the status could not be read


def _when(value: datetime | None) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M") if value else ""


def load_rows(ctx: Any) -> list[Row]:
    """Core worker: outbox rows joined with the tracker's statuses."""
    from reporter_app.status import collect_statuses

    tracker, tracker_error = None, ""
    try:
        tracker = ctx.tracker()
    except Exception as exc:  # missing credentials etc.: still list the outbox, say why statuses are missing
        tracker_error = str(exc)
    rows = []
    for status in reversed(collect_statuses(ctx.outbox, tracker, tracker_error=tracker_error)):
        entry, ticket = status.entry, status.ticket
        state = entry.state.value if entry else ""
        reason = entry.last_error if entry and state != "filed" else status.error
        if state == "waiting_retry" and entry and entry.next_attempt_at:
            reason = f"{reason} (next try {_when(entry.next_attempt_at)})".strip()
        rows.append(Row(
            report_id=entry.id if entry else "", key=status.key,
            url=(ticket.ref.url if ticket else (entry.ticket_url if entry else "")) or "",
            title=(entry.title if entry else "") or (ticket.title if ticket else ""),
            status=ticket.status_name if ticket else STATE_WORDS.get(state, state or "unknown"),
            priority=ticket.priority if ticket else "",
            updated=_when(ticket.updated_at if ticket and ticket.updated_at else (entry.updated_at if entry else None)),
            comments=len(ticket.comments) if ticket else 0, outbox_state=state, reason=reason,
        ))
    return rows


class MyReportsWindow(QWidget):
    def __init__(self, ctx: Any, core: CoreWorker, outbox: OutboxWorker, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.core = core
        self.outbox = outbox
        self.rows: list[Row] = []
        self.setWindowTitle("My reports")
        self.setAccessibleName("My reports")
        self.resize(860, 420)
        layout = QVBoxLayout(self)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setAccessibleName("Reports from this machine")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.cellActivated.connect(self._open_ticket)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        layout.addWidget(self.table, 1)
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.detail.setAccessibleName("Details of the selected report")
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.detail)
        buttons = QHBoxLayout()
        self.state_label = QLabel("Loading…")
        self.state_label.setAccessibleName("Loading state")
        self.retry_button = QPushButton("&Retry now")
        self.retry_button.setAccessibleName("Retry sending the selected report")
        self.retry_button.setEnabled(False)
        self.retry_button.clicked.connect(self._retry)
        self.refresh_button = QPushButton("Re&fresh")
        self.refresh_button.clicked.connect(self.refresh)
        buttons.addWidget(self.state_label, 1)
        buttons.addWidget(self.retry_button)
        buttons.addWidget(self.refresh_button)
        layout.addLayout(buttons)
        outbox.pending_changed.connect(lambda *_: self.refresh() if self.isVisible() else None)

    def refresh(self) -> None:
        self.state_label.setText("Loading…")
        self.refresh_button.setEnabled(False)
        self.core.run(self, lambda: load_rows(self.ctx), self.show_rows, self._failed)

    def _failed(self, exc: BaseException) -> None:
        self.state_label.setText(f"Could not read the reports: {exc}")
        self.refresh_button.setEnabled(True)

    def show_rows(self, rows: list[Row]) -> None:
        self.rows = rows
        self.table.setRowCount(len(rows))
        for index, row in enumerate(rows):
            badge = f"💬 {row.comments}" if row.comments else ""
            values = (row.key or "—", row.title, row.status, row.priority, row.updated, badge)
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                if column == 0 and row.url:
                    item.setToolTip(f"Open {row.url}")
                    font = item.font()
                    font.setUnderline(True)
                    item.setFont(font)
                if row.outbox_state == "needs_attention":
                    item.setForeground(Qt.GlobalColor.darkRed)
                if row.reason:
                    item.setToolTip(row.reason)
                self.table.setItem(index, column, item)
        pending = sum(1 for r in rows if r.outbox_state not in ("filed", ""))
        self.state_label.setText(f"{len(rows)} report{'s' if len(rows) != 1 else ''}, {pending} waiting to be sent")
        self.refresh_button.setEnabled(True)
        self._selection_changed()

    def _selected(self) -> Row | None:
        index = self.table.currentRow()
        return self.rows[index] if 0 <= index < len(self.rows) and self.table.selectedItems() else None

    def _selection_changed(self) -> None:
        row = self._selected()
        self.retry_button.setEnabled(bool(row and row.outbox_state in ("waiting_retry", "needs_attention")))
        if row is None:
            self.detail.setText("")
            return
        self.detail.setText(f"<b>{row.key or 'Not filed yet'}</b> · {row.title}<br>{row.reason}")

    def _retry(self) -> None:
        row = self._selected()
        if row is not None:
            self.outbox.retry(row.report_id)
            self.state_label.setText("Retrying…")

    def _open_ticket(self, index: int, _column: int) -> None:
        if 0 <= index < len(self.rows) and self.rows[index].url:
            QDesktopServices.openUrl(QUrl(self.rows[index].url))
