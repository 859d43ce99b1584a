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


def test_what_the_op_and_callbacks_hold_is_released_on_the_gui_thread(qtbot: QtBot) -> None:
    # A QObject with timers, last held by a job's closure, must not be destroyed on the worker thread.
    import gc
    import weakref

    class Held:
        pass

    gui = threading.get_ident()
    released_on: list[int] = []
    done: list[object] = []
    for _ in range(20):  # the race it guards against is a matter of microseconds: try it often
        held = Held()
        weakref.finalize(held, lambda: released_on.append(threading.get_ident()))
        run_in_background(None, lambda held=held: held, lambda result: done.append(type(result)))  # type: ignore[misc]
        del held
    qtbot.waitUntil(lambda: len(done) == 20)
    qtbot.wait(50)  # the workers have let go of their jobs by now
    gc.collect()
    assert len(released_on) == 20
    assert set(released_on) == {gui}
