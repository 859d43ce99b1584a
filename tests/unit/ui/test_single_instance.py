from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from ui.single_instance import OPEN_FORM, InstanceServer, ask_running_instance, server_name


def test_name_depends_on_the_data_dir(tmp_path: Path) -> None:
    assert server_name(tmp_path / "a") != server_name(tmp_path / "b")
    assert server_name(tmp_path / "a") == server_name(tmp_path / "a")


def test_a_second_launch_asks_the_first_to_open_the_form(qtbot: QtBot, tmp_path: Path) -> None:
    name = server_name(tmp_path)
    assert not ask_running_instance(name, OPEN_FORM)  # nobody running yet
    server = InstanceServer(name)
    try:
        with qtbot.waitSignal(server.form_requested, timeout=3000):
            assert ask_running_instance(name, OPEN_FORM)
        qtbot.wait(50)  # let the server see the client's disconnect
    finally:
        server.close()
        server.deleteLater()
        qtbot.wait(10)
