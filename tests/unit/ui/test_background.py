from __future__ import annotations

import threading

from PySide6.QtCore import QObject
from pytestqt.qtbot import QtBot

from ui.background import run_in_background


def test_success_runs_on_the_gui_thread_with_the_result(qtbot: QtBot) -> None:
    gui = threading.get_ident()
    seen: dict[str, object] = {}

    def op() -> int:
        seen["op_thread"] = threading.get_ident()
        return 42

    def success(value: int) -> None:
        seen["value"] = value
        seen["success_thread"] = threading.get_ident()

    run_in_background(None, op, success)
    qtbot.waitUntil(lambda: "value" in seen)
    assert seen["value"] == 42
    assert seen["op_thread"] != gui
    assert seen["success_thread"] == gui


def test_failure_gets_the_exception(qtbot: QtBot) -> None:
    errors: list[BaseException] = []

    def op() -> None:
        raise ValueError("disk full")

    run_in_background(None, op, lambda _: None, errors.append)
    qtbot.waitUntil(lambda: bool(errors))
    assert isinstance(errors[0], ValueError)


def test_callbacks_are_dropped_when_the_parent_is_gone(qtbot: QtBot) -> None:
    parent = QObject()
    release = threading.Event()
    called: list[object] = []
    run_in_background(parent, lambda: release.wait(5), called.append)
    parent.deleteLater()
    qtbot.wait(20)
    release.set()
    qtbot.wait(100)
    assert called == []
