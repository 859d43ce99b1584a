"""My reports: every report from this machine, its ticket's status and SLA time left, the tracker's
comments with a badge for new ones, "Add information", "Look up a ticket" by key, and the outbox with Retry.

Statuses come from the tracker (network): fetched on the core worker (ui/my_reports_data.py), shown
when they arrive. The details pane is ui/report_details.py.
"""

from __future__ import annotations

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
from ui.my_reports_data import STATE_WORDS, Row, SeenComments, load_rows  # noqa: F401 - Row, STATE_WORDS re-exported
from ui.outbox_worker import OutboxWorker
from ui.report_details import ReportDetails

COLUMNS = ("Ticket", "Title", "Status", "Priority", "SLA time left", "Last update", "Comments")


class MyReportsWindow(QWidget):
    def __init__(self, ctx: Any, core: CoreWorker, outbox: OutboxWorker, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.core = core
        self.outbox = outbox
        self.rows: list[Row] = []
        self._select_key = ""  # a ticket just looked up: selected when the list arrives
        self._select_report = ""  # a report a notice was clicked for (select_report): the same
        self.setWindowTitle("My reports")
        self.setAccessibleName("My reports")
        self.resize(960, 620)
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
        self.details = ReportDetails(ctx, core, self)
        self.details.comment_added.connect(self.refresh)
        self.details.looked_up.connect(self._select_after_refresh)
        layout.addWidget(self.details)
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
            if row.new_comments:
                badge += f" · {row.new_comments} new"
            values = (row.key or "—", row.title, row.status, row.priority, row.sla, row.updated, badge)
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
                if column == 6 and row.new_comments:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                    item.setToolTip(f"{row.new_comments} new comment{'s' if row.new_comments != 1 else ''}")
                self.table.setItem(index, column, item)
        pending = sum(1 for r in rows if r.outbox_state not in ("filed", ""))
        unread = sum(r.new_comments for r in rows)
        self.state_label.setText(f"{len(rows)} report{'s' if len(rows) != 1 else ''}, {pending} waiting to be sent"
                                 + (f", {unread} new comment{'s' if unread != 1 else ''}" if unread else ""))
        self.refresh_button.setEnabled(True)
        if self._select_report:
            ids = [row.report_id for row in rows]
            if self._select_report in ids:
                self.table.selectRow(ids.index(self._select_report))
                self._select_key = ""  # found by report id; the key was only the fallback
            self._select_report = ""
        if self._select_key:
            keys = [row.key for row in rows]
            if self._select_key in keys:
                self.table.selectRow(keys.index(self._select_key))
            self._select_key = ""
        self._selection_changed()

    def select_report(self, report_id: str, key: str = "") -> None:
        """Select this report (or, for a ticket followed by key, that key) once the list arrives.

        Rows come from the core worker, so the choice waits for the next `show_rows`; call `refresh()` after."""
        self._select_report = report_id
        self._select_key = key

    def _select_after_refresh(self, key: str) -> None:
        self._select_key = key
        self.refresh()

    def _selected(self) -> Row | None:
        index = self.table.currentRow()
        return self.rows[index] if 0 <= index < len(self.rows) and self.table.selectedItems() else None

    def _selection_changed(self) -> None:
        row = self._selected()
        self.retry_button.setEnabled(bool(row and row.outbox_state in ("waiting_retry", "needs_attention")))
        self.details.show_row(row)
        if row is not None and row.new_comments:
            # Shown now: not new any more (remembered on the worker; the badge goes at the next refresh).
            ids = [c.id for c in row.comment_list]
            self.core.run(self, lambda: SeenComments(self.ctx.paths.data_dir).mark(row.key, ids))

    def _retry(self) -> None:
        row = self._selected()
        if row is not None:
            self.outbox.retry(row.report_id)
            self.state_label.setText("Retrying…")

    def _open_ticket(self, index: int, _column: int) -> None:
        if 0 <= index < len(self.rows) and self.rows[index].url:
            QDesktopServices.openUrl(QUrl(self.rows[index].url))
