"""The annotate-and-redact editor, opened from the form's "Annotate or hide parts…" button.

`AnnotateDialog(image, parent)`; `exec()`; `result_image()` is the full-resolution image to send
(ui/report_flow.py hands it to the submit path, which re-encodes it). The view scales the image to
fit (an all-monitors grab can be 7680 px wide); marks are kept in image coordinates and applied to
the full-resolution image only on export, where redactions overwrite the pixels (annotate_tools).
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QColor,
    QGuiApplication,
    QImage,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
    QResizeEvent,
    QShowEvent,
    QTransform,
    QUndoCommand,
    QUndoStack,
)
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QInputDialog,
    QLabel,
    QSizePolicy,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ui.annotate_tools import TOOL_IDS, Annotation, Style, Tool, create_tool, crop_of, render

SCREEN_PEN_PX = 3.0  # marks look this thick on screen, whatever the zoom
SCREEN_FONT_PX = 18
DEFAULT_TOOL = "rectangle"


class _AddAnnotation(QUndoCommand):
    def __init__(self, canvas: AnnotateCanvas, annotation: Annotation) -> None:
        super().__init__(f"Add {annotation.tool_id}")
        self._canvas = canvas
        self._annotation = annotation

    def redo(self) -> None:
        self._canvas.annotations.append(self._annotation)
        self._canvas.annotations_changed()

    def undo(self) -> None:
        self._canvas.annotations.remove(self._annotation)
        self._canvas.annotations_changed()


class AnnotateCanvas(QWidget):
    """The image scaled to fit, marks on top, the drag in progress; mouse in view pixels, marks in image pixels."""

    changed = Signal()

    def __init__(self, image: QImage, stack: QUndoStack, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image = image
        self.stack = stack
        self.annotations: list[Annotation] = []
        self.tool: Tool = create_tool(DEFAULT_TOOL)
        self._drag: list[QPointF] = []
        self._scaled: QPixmap | None = None
        self.setAccessibleName("Screenshot being edited")
        self.setAccessibleDescription("Drag on the screenshot to use the chosen tool")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 200)
        self.setMouseTracking(False)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    # ------------------------------------------------------------------ geometry

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(min(self.image.width(), 1200), min(self.image.height(), 700))

    def image_rect(self) -> QRectF:
        """Where the image is drawn in the widget: fitted, centred, never enlarged."""
        if self.image.isNull():
            return QRectF()
        scale = self.scale()
        width, height = self.image.width() * scale, self.image.height() * scale
        return QRectF((self.width() - width) / 2, (self.height() - height) / 2, width, height)

    def scale(self) -> float:
        if self.image.isNull():
            return 1.0
        return min(1.0, self.width() / self.image.width(), self.height() / self.image.height())

    def to_image(self, pos: QPointF) -> QPointF:
        area = self.image_rect()
        scale = self.scale()
        x = min(max((pos.x() - area.left()) / scale, 0.0), float(self.image.width()))
        y = min(max((pos.y() - area.top()) / scale, 0.0), float(self.image.height()))
        return QPointF(x, y)

    def mark_style(self) -> Style:
        scale = self.scale()
        return Style(pen_width=SCREEN_PEN_PX / scale, font_px=max(8, round(SCREEN_FONT_PX / scale)))

    # ------------------------------------------------------------------ model

    def set_tool(self, tool_id: str) -> None:
        self.tool = create_tool(tool_id)
        self._drag = []
        self.update()

    def add(self, annotation: Annotation) -> None:
        self.stack.push(_AddAnnotation(self, annotation))

    def annotations_changed(self) -> None:
        self.update()
        self.changed.emit()

    def result_image(self) -> QImage:
        return render(self.image, self.annotations)

    def ask_text(self) -> str:
        """Asked when the text tool is clicked; tests replace this method."""
        text, ok = QInputDialog.getText(self, "Add text", "Text to put on the screenshot:")
        return text if ok else ""

    # ------------------------------------------------------------------ mouse

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        if event.button() != Qt.MouseButton.LeftButton:
            return
        point = self.to_image(event.position())
        if self.tool.needs_text:
            text = self.ask_text()
            annotation = self.tool.annotation([point], self.mark_style(), text)
            if annotation is not None:
                self.add(annotation)
            return
        self._drag = [point]

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        if self._drag:
            self._drag.append(self.to_image(event.position()))
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        if event.button() != Qt.MouseButton.LeftButton or not self._drag:
            return
        self._drag.append(self.to_image(event.position()))
        points, self._drag = self._drag, []
        annotation = self.tool.annotation(points, self.mark_style())
        if annotation is not None:
            self.add(annotation)
        else:
            self.update()

    # ------------------------------------------------------------------ painting

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        self._scaled = None  # re-scaled lazily, once, at the next paint
        super().resizeEvent(event)

    def _scaled_pixmap(self) -> QPixmap:
        area = self.image_rect()
        ratio = self.devicePixelRatioF()
        size = QSize(max(1, round(area.width() * ratio)), max(1, round(area.height() * ratio)))
        if self._scaled is None or self._scaled.size() != size:
            # Scaled once per size (a big image takes tens of ms), not at every paint.
            scaled = self.image.scaled(size, Qt.AspectRatioMode.IgnoreAspectRatio,
                                       Qt.TransformationMode.SmoothTransformation)
            self._scaled = QPixmap.fromImage(scaled)
            self._scaled.setDevicePixelRatio(ratio)
        return self._scaled

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().dark())
        if self.image.isNull():
            painter.end()
            return
        area = self.image_rect()
        painter.drawPixmap(area.topLeft(), self._scaled_pixmap())
        scale = self.scale()
        painter.setTransform(QTransform(scale, 0, 0, scale, area.left(), area.top()))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setClipRect(QRectF(0, 0, self.image.width(), self.image.height()))
        for annotation in self.annotations:
            annotation.draw(painter)
        preview = self.tool.annotation(self._drag, self.mark_style()) if len(self._drag) >= 2 else None
        if preview is not None:
            preview.draw(painter)
        crop = crop_of(self.annotations + ([preview] if preview is not None else []))
        if crop is not None:
            self._dim_outside(painter, crop)
        painter.end()

    def _dim_outside(self, painter: QPainter, crop: QRectF) -> None:
        whole = QRectF(0, 0, self.image.width(), self.image.height())
        shade = QColor(0, 0, 0, 140)
        painter.fillRect(QRectF(whole.left(), whole.top(), whole.width(), crop.top()), shade)
        painter.fillRect(QRectF(whole.left(), crop.bottom(), whole.width(), whole.bottom() - crop.bottom()), shade)
        painter.fillRect(QRectF(whole.left(), crop.top(), crop.left(), crop.height()), shade)
        painter.fillRect(QRectF(crop.right(), crop.top(), whole.right() - crop.right(), crop.height()), shade)
        painter.setPen(QPen(QColor("white"), 0, Qt.PenStyle.DashLine))  # cosmetic: one device pixel
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(crop)


class AnnotateDialog(QDialog):
    def __init__(self, image: QImage, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Annotate or hide parts of the screenshot")
        self.setAccessibleName("Annotate or hide parts of the screenshot")
        self.setObjectName("annotate-dialog")
        self.undo_stack = QUndoStack(self)
        self.canvas = AnnotateCanvas(image, self.undo_stack, self)
        layout = QVBoxLayout(self)
        layout.addWidget(self._build_toolbar())
        layout.addWidget(self.canvas, 1)
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.hint.setAccessibleName("How to use the chosen tool")
        layout.addWidget(self.hint)
        buttons = QDialogButtonBox()
        self.cancel_button = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.done_button = buttons.addButton("&Use this screenshot", QDialogButtonBox.ButtonRole.AcceptRole)
        self.done_button.setAccessibleName("Use this screenshot in the report")
        # Return means "done" wherever the focus is; Cancel is Esc (or a click), never a stray Return.
        self.cancel_button.setAutoDefault(False)
        self.done_button.setAutoDefault(True)
        self.done_button.setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.choose_tool(DEFAULT_TOOL)
        self._fit_to_screen()

    def _build_toolbar(self) -> QToolBar:
        bar = QToolBar("Tools", self)
        bar.setAccessibleName("Annotation tools")
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        group = QActionGroup(self)
        group.setExclusive(True)
        self.tool_actions: dict[str, QAction] = {}
        for tool_id in TOOL_IDS:
            if tool_id == "crop" or tool_id == "redact-box":
                bar.addSeparator()  # groups: marks | crop | redactions
            tool = create_tool(tool_id)
            action = QAction(tool.label, self)
            action.setObjectName(f"tool-{tool_id}")
            action.setCheckable(True)
            action.setShortcut(QKeySequence(tool.shortcut))
            action.setToolTip(f"{tool.help} ({tool.shortcut})")
            action.triggered.connect(lambda _=False, t=tool_id: self.choose_tool(t))
            group.addAction(action)
            bar.addAction(action)
            self._name_button(bar, action, f"{tool.label.replace('&', '')} tool: {tool.help}")
            self.tool_actions[tool_id] = action
        bar.addSeparator()
        # Plain actions rather than createUndoAction: its "Undo Add redact-box" text makes the toolbar jump.
        undo = QAction("&Undo", self)
        undo.setShortcut(QKeySequence("Ctrl+Z"))
        undo.triggered.connect(self.undo_stack.undo)
        undo.setEnabled(False)
        self.undo_stack.canUndoChanged.connect(undo.setEnabled)
        redo = QAction("Re&do", self)
        redo.triggered.connect(self.undo_stack.redo)
        redo.setEnabled(False)
        self.undo_stack.canRedoChanged.connect(redo.setEnabled)
        # Both common spellings, whatever the platform theme says Redo is.
        redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        for action, name in ((undo, "Undo (Ctrl+Z)"), (redo, "Redo (Ctrl+Shift+Z)")):
            bar.addAction(action)
            self._name_button(bar, action, name)
        self.undo_action, self.redo_action = undo, redo
        return bar

    @staticmethod
    def _name_button(bar: QToolBar, action: QAction, name: str) -> None:
        button = bar.widgetForAction(action)
        if isinstance(button, QToolButton):
            button.setAccessibleName(name)

    def _fit_to_screen(self) -> None:
        parent = self.parentWidget()
        screen = (parent.screen() if parent is not None else None) or QGuiApplication.primaryScreen()
        if screen is None:
            return
        area = screen.availableGeometry()
        self.resize(QSize(round(area.width() * 0.85), round(area.height() * 0.85)))

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        self.canvas.setFocus(Qt.FocusReason.ActiveWindowFocusReason)

    def choose_tool(self, tool_id: str) -> None:
        self.tool_actions[tool_id].setChecked(True)
        self.canvas.set_tool(tool_id)
        tool = self.canvas.tool
        note = " Hidden parts are removed from the image that is sent." if tool_id.startswith("redact-") else ""
        self.hint.setText(f"{tool.help}.{note}  Ctrl+Z undoes.")

    def result_image(self) -> QImage:
        """The full-resolution image to send (annotations applied, redacted pixels overwritten, cropped)."""
        return self.canvas.result_image()
