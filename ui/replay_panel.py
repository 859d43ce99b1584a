"""The form's screen replay: a button next to the screenshot, and the panel it opens.

The panel previews the frames (slider), sets the trim start/end and hides areas: a box drawn
on the preview is blacked out in every frame when the video is encoded at submit time
(capture/replay_encode.py, on the core worker). "Attach" checks the replay in the attachment
list; it starts unchecked, so nothing of the replay leaves the machine unless chosen.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QPoint, QRect, Qt
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from capture.replay_encode import Box, ReplaySelection
from ui.attachments import REPLAY

PREVIEW_WIDTH = 640


def bgra_to_qimage(image: Any) -> QImage:
    """A QImage copy of a (h, w, 4) BGRA array (Qt's RGB32 in little-endian memory)."""
    height, width = int(image.shape[0]), int(image.shape[1])
    return QImage(image.tobytes(), width, height, width * 4, QImage.Format.Format_RGB32).copy()


class BoxCanvas(QLabel):
    """The preview: shows a frame with the hidden areas black, and lets the reporter drag new boxes."""

    def __init__(self, selection: ReplaySelection, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.selection = selection
        self.setAccessibleName("Replay preview: drag to hide an area in every frame")
        self.setCursor(Qt.CursorShape.CrossCursor)
        self._image = QImage()
        self._drag: QRect | None = None

    def set_frame(self, image: QImage) -> None:
        self._image = image.scaledToWidth(PREVIEW_WIDTH, Qt.TransformationMode.SmoothTransformation)
        self.setFixedSize(self._image.size())
        self.update()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        self._drag = QRect(event.position().toPoint(), event.position().toPoint())

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        if self._drag is not None:
            self._drag.setBottomRight(event.position().toPoint())
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        if self._drag is None:
            return
        rect, self._drag = self._drag.normalized(), None
        if rect.width() > 2 and rect.height() > 2 and self.width() and self.height():
            self.selection.boxes.append(Box(rect.x() / self.width(), rect.y() / self.height(),
                                            rect.width() / self.width(), rect.height() / self.height()))
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        painter.drawImage(QPoint(0, 0), self._image)
        painter.setBrush(QColor("black"))  # as the video will be: those pixels are gone
        for box in self.selection.boxes:
            painter.drawRect(QRect(round(box.x * self.width()), round(box.y * self.height()),
                                   round(box.width * self.width()), round(box.height * self.height())))
        if self._drag is not None:
            painter.setBrush(QColor(0, 0, 0, 120))
            painter.drawRect(self._drag.normalized())
        painter.end()


class ReplayPanel(QDialog):
    """Preview, trim and hide areas. Accepted ("Attach"): the selection is edited in place."""

    def __init__(self, selection: ReplaySelection, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.selection = selection
        clip = selection.clip
        self.setWindowTitle("Screen replay")
        self.setAccessibleName("Screen replay")
        layout = QVBoxLayout(self)
        intro = QLabel(f"The last {clip.seconds:.0f} s of your screen. Drag on the picture to hide an area in "
                       "every frame; set where the video starts and ends.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.canvas = BoxCanvas(selection)
        layout.addWidget(self.canvas)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setAccessibleName("Frame")
        self.slider.setRange(0, max(0, clip.count - 1))
        self.slider.valueChanged.connect(self._show_frame)
        layout.addWidget(self.slider)
        self.position = QLabel()
        layout.addWidget(self.position)
        row = QHBoxLayout()
        self.start_button = QPushButton("Start &here")
        self.start_button.clicked.connect(self._set_start)
        self.end_button = QPushButton("&End here")
        self.end_button.clicked.connect(self._set_end)
        self.clear_button = QPushButton("&Show hidden areas again")
        self.clear_button.clicked.connect(self._clear_boxes)
        for button in (self.start_button, self.end_button, self.clear_button):
            row.addWidget(button)
        row.addStretch(1)
        layout.addLayout(row)
        self.buttons = QDialogButtonBox()
        self.attach_button = self.buttons.addButton("&Attach the replay", QDialogButtonBox.ButtonRole.AcceptRole)
        self.attach_button.setDefault(True)
        self.leave_button = self.buttons.addButton("&Leave it out", QDialogButtonBox.ButtonRole.RejectRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.slider.setValue(clip.count - 1)  # the moment of the hotkey first
        self._show_frame(self.slider.value())
        self.attach_button.setFocus()

    def _show_frame(self, index: int) -> None:
        clip = self.selection.clip
        if clip.count == 0:
            return
        self.canvas.set_frame(bgra_to_qimage(clip.image(index)))
        self._describe()

    def _describe(self) -> None:
        sel, fps = self.selection, self.selection.clip.fps
        end = sel.end if sel.end is not None else sel.clip.count
        self.position.setText(f"Frame at {self.slider.value() / fps:.1f} s · video from {sel.start / fps:.1f} s "
                              f"to {end / fps:.1f} s ({sel.seconds:.1f} s) · {len(sel.boxes)} area(s) hidden")

    def _set_start(self) -> None:
        self.selection.start = min(self.slider.value(), (self.selection.end or self.selection.clip.count) - 1)
        self._describe()

    def _set_end(self) -> None:
        self.selection.end = max(self.slider.value() + 1, self.selection.start + 1)
        self._describe()

    def _clear_boxes(self) -> None:
        self.selection.boxes.clear()
        self.canvas.update()
        self._describe()


class ReplayFormHook(QObject):
    """Puts the "Screen replay…" button on the form when the open report has a replay to offer."""

    def __init__(self, flow: Any, controller: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.flow = flow
        self.controller = controller
        form = flow.form
        self.button = QPushButton("Scree&n replay…")
        self.button.setAccessibleName("Preview, trim and attach the screen replay")
        self.button.clicked.connect(self.open_panel)
        self.button.hide()
        form.replay_slot.addWidget(self.button)
        flow.form_will_show.connect(self._form_will_show)

    def _form_will_show(self) -> None:
        selection = self.controller.current
        self.button.setVisible(selection is not None)
        if selection is not None:
            self.button.setText(f"Scree&n replay ({selection.clip.seconds:.0f} s)…")

    def open_panel(self) -> None:
        selection = self.controller.current
        if selection is None:
            return
        panel = ReplayPanel(selection, self.flow.form)
        self.set_attached(bool(panel.exec()))

    def set_attached(self, attached: bool) -> None:
        attachments = self.flow.form.attachments
        for row in range(attachments.count()):
            item = attachments.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == REPLAY:
                item.setCheckState(Qt.CheckState.Checked if attached else Qt.CheckState.Unchecked)


__all__ = ["BoxCanvas", "ReplayFormHook", "ReplayPanel", "bgra_to_qimage"]
