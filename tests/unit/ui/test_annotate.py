"""The annotate/redact editor: tools from the factory, redactions that destroy pixels, undo/redo, scaled view."""

from __future__ import annotations

import random

import pytest
from PySide6.QtCore import QPoint, QRect, QRectF, Qt
from PySide6.QtGui import QColor, QImage
from pytestqt.qtbot import QtBot

from ui.annotate import AnnotateDialog
from ui.annotate_tools import TOOL_IDS, BlackBox, Pixelate, Style, create_tool, render

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support (propagateSizeHints|raise)\(\)")


def noise_image(width: int, height: int, seed: int = 7) -> QImage:
    """Every pixel different from its neighbours: a redaction that keeps any original pixel shows."""
    rng = random.Random(seed)
    image = QImage(width, height, QImage.Format.Format_RGB32)
    data = bytes(rng.getrandbits(8) for _ in range(width * height * 4))
    for y in range(height):
        row = data[y * width * 4:(y + 1) * width * 4]
        for x in range(width):
            image.setPixel(x, y, QColor(row[x * 4], row[x * 4 + 1], row[x * 4 + 2]).rgb())
    return image


@pytest.fixture(scope="module")
def noisy() -> QImage:
    return noise_image(240, 160)


def pixels(image: QImage, rect: QRect) -> list[int]:
    return [image.pixel(x, y) for y in range(rect.top(), rect.bottom() + 1) for x in range(rect.left(), rect.right() + 1)]


def test_factory_knows_every_stable_id_and_refuses_others() -> None:
    assert TOOL_IDS == ("rectangle", "arrow", "text", "highlighter", "crop", "redact-box", "redact-pixelate")
    shortcuts = set()
    for tool_id in TOOL_IDS:
        tool = create_tool(tool_id)
        assert tool.id == tool_id and tool.label and tool.help
        shortcuts.add(tool.shortcut)
    assert len(shortcuts) == len(TOOL_IDS)
    with pytest.raises(ValueError, match="unknown annotation tool 'blur'"):
        create_tool("blur")


def test_black_box_overwrites_every_pixel_under_it_and_nothing_else(qapp: object, noisy: QImage) -> None:
    box = QRect(30, 20, 50, 40)
    out = render(noisy, [BlackBox(QRectF(box))])
    assert set(pixels(out, box)) == {QColor("black").rgb()}
    # Outside the box (a ring around it included): untouched.
    assert pixels(out, QRect(0, 0, 240, 19)) == pixels(noisy, QRect(0, 0, 240, 19))
    assert pixels(out, QRect(81, 20, 100, 40)) == pixels(noisy, QRect(81, 20, 100, 40))


def test_black_box_with_fractional_edges_covers_the_partial_pixels(qapp: object, noisy: QImage) -> None:
    out = render(noisy, [BlackBox(QRectF(QRect(10, 10, 20, 20)).adjusted(0.4, 0.4, -0.4, -0.4))])
    assert set(pixels(out, QRect(10, 10, 20, 20))) == {QColor("black").rgb()}


def test_pixelate_leaves_none_of_the_original_pixels_only_flat_cells(qapp: object, noisy: QImage) -> None:
    area = QRect(24, 24, 96, 72)
    out = render(noisy, [Pixelate(QRectF(area), cell=12)])
    before, after = pixels(noisy, area), pixels(out, area)
    same = sum(1 for a, b in zip(before, after) if a == b)
    assert same < len(before) * 0.01  # averages of noise: practically never an original value
    for cell_x in range(area.left(), area.right(), 12):
        cell = set(pixels(out, QRect(cell_x, area.top(), 12, 12)))
        assert len(cell) == 1, "each cell is one flat colour"
    assert pixels(out, QRect(0, 0, 240, 23)) == pixels(noisy, QRect(0, 0, 240, 23))


def test_render_never_touches_the_source_image(qapp: object, noisy: QImage) -> None:
    before = noisy.copy()
    render(noisy, [BlackBox(QRectF(QRect(0, 0, 100, 100)))])
    assert noisy == before


def drag(qtbot: QtBot, widget: object, start: QPoint, end: QPoint) -> None:
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(widget, QPoint((start.x() + end.x()) // 2, (start.y() + end.y()) // 2))
    qtbot.mouseMove(widget, end)
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=end)


@pytest.fixture
def large_dialog(qtbot: QtBot) -> AnnotateDialog:
    # An all-monitors sized image, shown in a much smaller view.
    image = QImage(3840, 1080, QImage.Format.Format_RGB32)
    image.fill(QColor("#3070c0"))
    dialog = AnnotateDialog(image)
    qtbot.addWidget(dialog)
    dialog.resize(1000, 500)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def test_drag_in_the_scaled_view_redacts_at_full_resolution(qtbot: QtBot, large_dialog: AnnotateDialog) -> None:
    canvas = large_dialog.canvas
    assert canvas.scale() < 0.3
    area = canvas.image_rect()
    start = QPoint(round(area.left() + area.width() * 0.25), round(area.top() + area.height() * 0.25))
    end = QPoint(round(area.left() + area.width() * 0.5), round(area.top() + area.height() * 0.75))
    qtbot.keyClick(canvas, Qt.Key.Key_B)  # black box by its shortcut
    assert large_dialog.tool_actions["redact-box"].isChecked()
    drag(qtbot, canvas, start, end)
    out = large_dialog.result_image()
    assert out.size() == large_dialog.canvas.image.size()  # exported at full resolution
    assert QColor(out.pixel(1500, 540)).name() == "#000000"  # in the box (~960..1920, 270..810)
    assert QColor(out.pixel(3000, 540)).name() == "#3070c0"  # outside


def test_undo_and_redo(qtbot: QtBot, large_dialog: AnnotateDialog) -> None:
    canvas = large_dialog.canvas
    large_dialog.choose_tool("rectangle")
    drag(qtbot, canvas, QPoint(200, 100), QPoint(400, 300))
    large_dialog.choose_tool("arrow")
    drag(qtbot, canvas, QPoint(500, 300), QPoint(600, 150))
    assert [a.tool_id for a in canvas.annotations] == ["rectangle", "arrow"]
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert [a.tool_id for a in canvas.annotations] == ["rectangle"]
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert [a.tool_id for a in canvas.annotations] == ["rectangle", "arrow"]
    large_dialog.undo_stack.undo()
    large_dialog.undo_stack.undo()
    assert canvas.annotations == []
    assert large_dialog.result_image() == canvas.image.convertToFormat(QImage.Format.Format_RGB32)


def test_a_click_is_not_a_shape(qtbot: QtBot, large_dialog: AnnotateDialog) -> None:
    qtbot.mouseClick(large_dialog.canvas, Qt.MouseButton.LeftButton, pos=QPoint(300, 200))
    assert large_dialog.canvas.annotations == []


def test_crop_exports_only_the_kept_part(qtbot: QtBot, large_dialog: AnnotateDialog) -> None:
    canvas = large_dialog.canvas
    large_dialog.choose_tool("crop")
    area = canvas.image_rect()
    drag(qtbot, canvas, area.topLeft().toPoint(), QPoint(round(area.left() + area.width() / 2), round(area.bottom())))
    out = large_dialog.result_image()
    assert abs(out.width() - 1920) <= 8 and abs(out.height() - 1080) <= 8


def test_text_highlighter_and_marks_draw_on_the_export(qtbot: QtBot, large_dialog: AnnotateDialog,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    canvas = large_dialog.canvas
    monkeypatch.setattr(canvas, "ask_text", lambda: "Here")
    large_dialog.choose_tool("text")
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=QPoint(300, 200))
    large_dialog.choose_tool("highlighter")
    drag(qtbot, canvas, QPoint(100, 300), QPoint(300, 310))
    assert [a.tool_id for a in canvas.annotations] == ["text", "highlighter"]
    out = large_dialog.result_image()
    assert out != canvas.image.convertToFormat(QImage.Format.Format_RGB32)
    # Marks are sized for the screen: at a ~1/4 zoom they are ~4x thicker in image pixels.
    assert canvas.mark_style().pen_width > Style().pen_width


def test_tools_and_buttons_have_accessible_names(large_dialog: AnnotateDialog) -> None:
    from PySide6.QtWidgets import QToolButton

    names = [b.accessibleName() for b in large_dialog.findChildren(QToolButton) if b.isVisible()]
    assert any(n.startswith("Black box tool") for n in names)
    assert "Undo (Ctrl+Z)" in names
    assert large_dialog.canvas.accessibleName()


def test_the_edited_image_encodes_to_png_for_the_bundle(qapp: object, noisy: QImage) -> None:
    from ui.capture_session import encode_image_png

    out = render(noisy, [BlackBox(QRectF(QRect(0, 0, 20, 20)))])
    decoded = QImage.fromData(encode_image_png(out), "PNG")
    assert decoded.convertToFormat(QImage.Format.Format_RGB32) == out
