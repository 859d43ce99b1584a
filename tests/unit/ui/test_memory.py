"""ui/memory.py and the thumbnail that stays out of QPixmapCache: what keeps the idle tray small (issue 4)."""

from __future__ import annotations

import importlib
import linecache
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QPixmap
from pytestqt.qtbot import QtBot

from ui.attachments import ScreenshotThumbnail
from ui.memory import forget_sources_read_by_pyside


def test_source_read_by_the_pyside_import_hook_is_not_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    module = tmp_path / "uses_qt_for_memory_test.py"
    module.write_text("from PySide6.QtCore import QObject\nVALUE = 'x' * 10\n" + "# padding\n" * 200,
                      encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert forget_sources_read_by_pyside()
    assert forget_sources_read_by_pyside()  # twice: wrapped once
    imported = importlib.import_module("uses_qt_for_memory_test")
    try:
        assert imported.VALUE == "x" * 10
        assert str(module) not in linecache.cache
        # Tracebacks still show source: linecache reads the file again when asked.
        assert linecache.getline(str(module), 2) == "VALUE = 'x' * 10\n"
    finally:
        sys.modules.pop("uses_qt_for_memory_test", None)


def test_thumbnail_draws_its_pixmap_and_falls_back_to_text(qtbot: QtBot) -> None:
    thumb = ScreenshotThumbnail("No screenshot")
    qtbot.addWidget(thumb)
    thumb.setFixedSize(220, 124)
    shot = QPixmap(220, 124)
    shot.fill(QColor(255, 136, 0))
    thumb.setPixmap(shot)
    assert thumb.text() == "" and thumb.pixmap().cacheKey() == shot.cacheKey()
    drawn = thumb.grab().toImage()
    assert drawn.pixelColor(110, 62) == QColor(255, 136, 0)

    thumb.setText("turned off in the configuration")
    assert thumb.pixmap().isNull()
    assert thumb.grab().toImage().pixelColor(110, 62) != QColor(255, 136, 0)
    thumb.setPixmap(shot)
    thumb.setPixmap(QPixmap())  # the form's reset
    assert thumb.pixmap().isNull()
