"""The form's attachment list: one checkable row per item, so the reporter decides what goes out; and the
screenshot's thumbnail next to it."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage, QPainter, QPaintEvent, QPixmap
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QWidget

from reporter_app.collect import Evidence

SCREENSHOT = "screenshot"
SYSTEM = "system"
ACTIVITY = "activity"
LOG_PREFIX = "log:"
PENDING_LOGS = "logs-pending"
REPLAY = "replay"  # unchecked until the reporter chooses it (ui/replay_panel.py)


class ScreenshotThumbnail(QLabel):
    """A QLabel that draws its pixmap itself.

    Why not `QLabel.setPixmap`: Qt 6's QLabel wraps the pixmap in a QIcon, and painting it stores a copy in the
    global QPixmapCache under the pixmap's unique key. Every report's thumbnail (~110 KB) stayed there until the
    cache's 10 MiB limit evicted it: the idle tray grew by ~110 KB per report (measured: 9.9 -> 15.2 MiB of malloc
    in use after 40 reports). Text (no screenshot, and why) is still QLabel's.
    """

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self._shown: QPixmap | None = None

    def setPixmap(self, pixmap: QPixmap | QImage) -> None:  # noqa: N802 - Qt's name
        if isinstance(pixmap, QImage):
            pixmap = QPixmap.fromImage(pixmap)
        self._shown = None if pixmap.isNull() else pixmap
        if self._shown is not None:
            super().setText("")
        self.update()

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        self._shown = None
        super().setText(text)

    def pixmap(self) -> QPixmap:
        return self._shown if self._shown is not None else QPixmap()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        super().paintEvent(event)  # the frame (and the text, when there is no screenshot)
        if self._shown is None:
            return
        area = self.contentsRect()
        size = self._shown.deviceIndependentSize().toSize()  # centred; a pixel or two of a wider one is clipped
        painter = QPainter(self)
        painter.drawPixmap(QPoint(area.x() + (area.width() - size.width()) // 2,
                                  area.y() + (area.height() - size.height()) // 2), self._shown)
        painter.end()


class AttachmentList(QListWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Attachments")
        self.setAccessibleDescription("Uncheck anything you do not want to send")
        self.setMaximumHeight(130)

    def _add(self, item_id: str, text: str, checked: bool = True, checkable: bool = True) -> QListWidgetItem:
        item = QListWidgetItem(text, self)
        item.setData(Qt.ItemDataRole.UserRole, item_id)
        if checkable:
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        else:
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)
        return item

    def fill(self, evidence: Evidence, has_screenshot: bool) -> None:
        self.clear()
        if has_screenshot:
            meta = evidence.screenshot_meta
            self._add(SCREENSHOT, f"Screenshot ({meta.get('width', '?')}×{meta.get('height', '?')})")
        if evidence.system:
            self._add(SYSTEM, "System details (OS, screen, app versions)")
        if evidence.activity:
            self._add(ACTIVITY, f"Recent windows ({len(evidence.activity)})")
        if evidence.replay is not None:
            self._add(REPLAY, f"Screen replay (last {evidence.replay.seconds:.0f} s)", checked=False)
        self._add(PENDING_LOGS, "Collecting logs…", checkable=False)

    def add_logs(self, evidence: Evidence) -> None:
        for row in range(self.count()):
            if self.item(row).data(Qt.ItemDataRole.UserRole) == PENDING_LOGS:
                self.takeItem(row)
                break
        for log in evidence.logs:
            note = f", {log.note}" if log.note else ""
            self._add(LOG_PREFIX + log.name, f"Log: {log.name} ({log.line_count} lines{note})")

    def included(self) -> set[str]:
        chosen = set()
        for row in range(self.count()):
            item = self.item(row)
            if item.flags() & Qt.ItemFlag.ItemIsUserCheckable and item.checkState() == Qt.CheckState.Checked:
                chosen.add(str(item.data(Qt.ItemDataRole.UserRole)))
        return chosen


def filter_evidence(evidence: Evidence, included: set[str]) -> Evidence:
    """What is sent: only the checked items; a left-out item is said so in the report (not silently missing)."""
    errors = dict(evidence.errors)
    chosen = replace(evidence, errors=errors, logs=[l for l in evidence.logs if LOG_PREFIX + l.name in included])
    if SCREENSHOT not in included and evidence.screenshot_png is not None:
        chosen.screenshot_png = None
        errors["screenshot"] = "left out by the reporter"
    if SYSTEM not in included and evidence.system:
        chosen.system = {}
        errors["system"] = "left out by the reporter"
    if ACTIVITY not in included and evidence.activity:
        chosen.activity = []
    if REPLAY not in included:
        chosen.replay = None  # off unless chosen: nothing to say in the report
    for log in evidence.logs:
        if LOG_PREFIX + log.name not in included:
            errors[f"logs.{log.name}"] = "left out by the reporter"
    return chosen
