"""Annotation tools for the screenshot editor: one small class per tool, one factory (Flameshot's model).

A tool turns the points of one mouse drag into an `Annotation`, a value in *image* coordinates.
Annotations paint themselves onto the full-resolution image (`apply`) and, while the editor is
open, onto the scaled view (`draw`). Redactions are different on purpose: `apply` overwrites the
pixels of the image itself, so what is sent never holds what was under the box.

Tool ids are persisted (last tool used, tests, docs): they are stable strings; add new tools at
the bottom of TOOL_IDS and never rename one.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field

from PySide6.QtCore import QLineF, QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QImage, QPainter, QPainterPath, QPen, QPolygonF

# Stable ids, in toolbar order. Add new ones at the end.
TOOL_IDS: tuple[str, ...] = ("rectangle", "arrow", "text", "highlighter", "crop", "redact-box", "redact-pixelate")

ANNOTATION_COLOR = QColor("#e0182d")  # a red that reads on both light and dark UIs
HIGHLIGHT_COLOR = QColor(255, 230, 0, 110)
MIN_DRAG_PX = 3  # in image pixels: smaller drags are clicks, not shapes
PIXELATE_CELLS_MIN = 12  # a pixelated block is at least this many image pixels wide


@dataclass(frozen=True)
class Style:
    """Sizes in image pixels, chosen by the editor so that marks look the same size on screen
    whatever the zoom (a 7680-px wide all-monitors image is shown at a quarter of its size)."""

    pen_width: float = 4.0
    font_px: int = 24
    color: QColor = field(default_factory=lambda: QColor(ANNOTATION_COLOR))


def _rect(points: Sequence[QPointF]) -> QRectF:
    return QRectF(points[0], points[-1]).normalized()


class Annotation(ABC):
    """One mark on the image, in image coordinates."""

    tool_id: str = ""
    destroys_pixels = False

    @abstractmethod
    def draw(self, painter: QPainter) -> None:
        """Paint on any surface whose coordinates are the image's (the view sets a scale)."""

    def apply(self, image: QImage) -> None:
        """Paint onto the full-resolution image."""
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.draw(painter)
        painter.end()


@dataclass
class RectangleMark(Annotation):
    rect: QRectF
    style: Style
    tool_id = "rectangle"

    def draw(self, painter: QPainter) -> None:
        painter.setPen(QPen(self.style.color, self.style.pen_width, Qt.PenStyle.SolidLine,
                            Qt.PenCapStyle.SquareCap, Qt.PenJoinStyle.MiterJoin))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(self.rect)


@dataclass
class ArrowMark(Annotation):
    line: QLineF
    style: Style
    tool_id = "arrow"

    def draw(self, painter: QPainter) -> None:
        width = self.style.pen_width
        head = max(width * 4, 12.0)
        angle = math.atan2(self.line.dy(), self.line.dx())
        tip = self.line.p2()
        # The shaft stops at the base of the head, so its square end does not poke through the tip.
        base = QPointF(tip.x() - math.cos(angle) * head * 0.8, tip.y() - math.sin(angle) * head * 0.8)
        painter.setPen(QPen(self.style.color, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        painter.drawLine(QLineF(self.line.p1(), base))
        wing = math.pi / 7
        left = QPointF(tip.x() - math.cos(angle - wing) * head, tip.y() - math.sin(angle - wing) * head)
        right = QPointF(tip.x() - math.cos(angle + wing) * head, tip.y() - math.sin(angle + wing) * head)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self.style.color)
        painter.drawPolygon(QPolygonF([tip, left, right]))


@dataclass
class TextMark(Annotation):
    at: QPointF
    text: str
    style: Style
    tool_id = "text"

    def draw(self, painter: QPainter) -> None:
        font = QFont()
        font.setPixelSize(self.style.font_px)
        font.setBold(True)
        painter.setFont(font)
        metrics = painter.fontMetrics()
        box = QRectF(metrics.boundingRect(self.text)).translated(self.at)
        box.translate(0, metrics.ascent())
        # A white plate under the text: readable on any background.
        painter.fillRect(box.adjusted(-4, -2, 4, 2), QColor(255, 255, 255, 220))
        painter.setPen(self.style.color)
        painter.drawText(QPointF(self.at.x(), self.at.y() + metrics.ascent()), self.text)


@dataclass
class HighlightMark(Annotation):
    points: list[QPointF]
    style: Style
    tool_id = "highlighter"

    def draw(self, painter: QPainter) -> None:
        path = QPainterPath(self.points[0])
        for point in self.points[1:]:
            path.lineTo(point)
        painter.setPen(QPen(HIGHLIGHT_COLOR, self.style.pen_width * 5, Qt.PenStyle.SolidLine,
                            Qt.PenCapStyle.FlatCap, Qt.PenJoinStyle.RoundJoin))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        # Multiply keeps dark text under the marker dark, like a real highlighter.
        painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Multiply)
        painter.drawPath(path)
        painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceOver)


@dataclass
class CropMark(Annotation):
    """Not painted: the editor keeps the last crop and cuts the exported image to it."""

    rect: QRectF
    tool_id = "crop"

    def draw(self, painter: QPainter) -> None:
        pass

    def apply(self, image: QImage) -> None:
        pass


@dataclass
class BlackBox(Annotation):
    rect: QRectF
    tool_id = "redact-box"
    destroys_pixels = True

    def pixel_rect(self, image: QImage) -> QRect:
        # Outward to whole pixels: a half-covered pixel at the edge is covered too.
        return self.rect.toAlignedRect().intersected(image.rect())

    def draw(self, painter: QPainter) -> None:
        painter.fillRect(self.rect, Qt.GlobalColor.black)

    def apply(self, image: QImage) -> None:
        area = self.pixel_rect(image)
        if area.isEmpty():
            return
        painter = QPainter(image)
        painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Source)
        painter.fillRect(area, Qt.GlobalColor.black)
        painter.end()


@dataclass
class Pixelate(BlackBox):
    cell: int = PIXELATE_CELLS_MIN
    tool_id = "redact-pixelate"

    def draw(self, painter: QPainter) -> None:
        # The view shows a hatched grey box; the real pixelation happens on the image (apply).
        painter.fillRect(self.rect, QColor(90, 90, 90))
        painter.fillRect(self.rect, QBrush(QColor(160, 160, 160), Qt.BrushStyle.DiagCrossPattern))

    def apply(self, image: QImage) -> None:
        area = self.pixel_rect(image)
        if area.isEmpty():
            return
        cell = max(PIXELATE_CELLS_MIN, self.cell)
        # Each cell becomes one flat colour: the average of its block, computed by a smooth downscale.
        # Nothing of the original survives but those averages (a block of >= 12x12 px is unreadable text).
        small = image.copy(area).scaled(max(1, area.width() // cell), max(1, area.height() // cell),
                                        Qt.AspectRatioMode.IgnoreAspectRatio,
                                        Qt.TransformationMode.SmoothTransformation)
        blocks = small.scaled(area.size(), Qt.AspectRatioMode.IgnoreAspectRatio,
                              Qt.TransformationMode.FastTransformation)
        painter = QPainter(image)
        painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Source)
        painter.drawImage(area.topLeft(), blocks)
        painter.end()


class Tool(ABC):
    """Turns the points of one drag (image coordinates) into an annotation, or None (too small)."""

    id: str = ""
    label: str = ""
    shortcut: str = ""
    help: str = ""
    needs_text = False  # the editor asks for the text before calling `annotation`

    @abstractmethod
    def annotation(self, points: Sequence[QPointF], style: Style, text: str = "") -> Annotation | None:
        """The mark these points make, or None when the drag was too small to mean anything."""

    @staticmethod
    def _big_enough(rect: QRectF) -> bool:
        return rect.width() >= MIN_DRAG_PX and rect.height() >= MIN_DRAG_PX


class RectangleTool(Tool):
    id, label, shortcut, help = "rectangle", "&Rectangle", "R", "Draw a frame around something"

    def annotation(self, points: Sequence[QPointF], style: Style, text: str = "") -> Annotation | None:
        rect = _rect(points)
        return RectangleMark(rect, style) if self._big_enough(rect) else None


class ArrowTool(Tool):
    id, label, shortcut, help = "arrow", "&Arrow", "A", "Drag from the tail to the tip"

    def annotation(self, points: Sequence[QPointF], style: Style, text: str = "") -> Annotation | None:
        line = QLineF(points[0], points[-1])
        return ArrowMark(line, style) if line.length() >= MIN_DRAG_PX else None


class TextTool(Tool):
    id, label, shortcut, help = "text", "&Text", "T", "Click where the text goes"
    needs_text = True

    def annotation(self, points: Sequence[QPointF], style: Style, text: str = "") -> Annotation | None:
        return TextMark(QPointF(points[0]), text, style) if text.strip() else None


class HighlighterTool(Tool):
    id, label, shortcut, help = "highlighter", "&Highlighter", "H", "Paint over text to highlight it"

    def annotation(self, points: Sequence[QPointF], style: Style, text: str = "") -> Annotation | None:
        if len(points) < 2 or not self._big_enough(QRectF(points[0], points[-1]).normalized().adjusted(0, 0, 4, 4)):
            return None
        return HighlightMark([QPointF(p) for p in points], style)


class CropTool(Tool):
    id, label, shortcut, help = "crop", "&Crop", "C", "Drag the part of the screenshot to keep"

    def annotation(self, points: Sequence[QPointF], style: Style, text: str = "") -> Annotation | None:
        rect = _rect(points)
        return CropMark(rect) if self._big_enough(rect) else None


class BlackBoxTool(Tool):
    id, label, shortcut, help = "redact-box", "&Black box", "B", "Hide with a black box (removed from what is sent)"

    def annotation(self, points: Sequence[QPointF], style: Style, text: str = "") -> Annotation | None:
        rect = _rect(points)
        return BlackBox(rect) if self._big_enough(rect) else None


class PixelateTool(Tool):
    id, label, shortcut, help = "redact-pixelate", "&Pixelate", "P", "Hide by pixelating (removed from what is sent)"

    def annotation(self, points: Sequence[QPointF], style: Style, text: str = "") -> Annotation | None:
        rect = _rect(points)
        # Cells scale with the marks: big enough on screen to be unreadable at any zoom.
        return Pixelate(rect, cell=max(PIXELATE_CELLS_MIN, round(style.pen_width * 4))) if self._big_enough(rect) else None


_TOOLS: dict[str, type[Tool]] = {cls.id: cls for cls in (RectangleTool, ArrowTool, TextTool, HighlighterTool,
                                                          CropTool, BlackBoxTool, PixelateTool)}
assert tuple(_TOOLS) == TOOL_IDS


def create_tool(tool_id: str) -> Tool:
    """The one factory: a tool from its stable id."""
    try:
        return _TOOLS[tool_id]()
    except KeyError:
        raise ValueError(f"unknown annotation tool {tool_id!r}; known: {', '.join(TOOL_IDS)}") from None


def render(base: QImage, annotations: Sequence[Annotation]) -> QImage:
    """The image that is sent: a copy of `base` with every annotation applied in order, then cropped.

    Applied in order, so a later redaction also covers an earlier mark under it, and a mark drawn
    after a redaction stays visible on top of it.
    """
    image = base.convertToFormat(QImage.Format.Format_RGB32)  # always a copy we own, never the grab's buffer
    crop: QRect | None = None
    for annotation in annotations:
        if isinstance(annotation, CropMark):
            crop = annotation.rect.toAlignedRect().intersected(image.rect())
        else:
            annotation.apply(image)
    if crop is not None and not crop.isEmpty():
        image = image.copy(crop)
    return image


def crop_of(annotations: Sequence[Annotation]) -> QRectF | None:
    crops = [a.rect for a in annotations if isinstance(a, CropMark)]
    return crops[-1] if crops else None
