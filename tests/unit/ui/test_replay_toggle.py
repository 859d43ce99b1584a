"""The tray's screen-replay switch survives a restart: kept in the user's state, never by rewriting config.toml.

A real AppContext on a temporary home (real config file, real data dir), the real ReplayController and
recorder thread; only the screen is a fake grabber, since this tier has no display.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

np = pytest.importorskip("numpy", reason="screen replay needs the 'replay' extra (numpy)")

from capture.replay import OFF, RECORDING, ReplayRecorder, ReplaySettings  # noqa: E402 - after the importorskip
from reporter_app.app import AppContext  # noqa: E402
from ui.replay_control import STATE_FILE, ReplayController  # noqa: E402


class _FakeGrabber:
    def grab(self, mode: str) -> Any:
        image = np.full((24, 32, 4), 200, np.uint8)
        return SimpleNamespace(raw=bytearray(image.tobytes()), width=32, height=24)

    def close(self) -> None:
        pass


def _recorder(settings: ReplaySettings) -> ReplayRecorder:
    return ReplayRecorder(settings, grabber_factory=lambda _display: _FakeGrabber(), foreground=lambda: None)


class _Restarts:
    """Starts the controller the way the app does, once per "run", against the same home."""

    def __init__(self, qtbot: QtBot, home: Path) -> None:
        self.qtbot = qtbot
        self.home = home
        self.running: list[ReplayController] = []

    def config(self, text: str) -> None:
        (self.home / "config.toml").write_text(text, encoding="utf-8")

    def start(self) -> ReplayController:
        ctx = AppContext.load()
        controller = ReplayController(ctx.config, state_file=ctx.paths.data_dir / STATE_FILE,
                                      recorder_factory=_recorder, reason=None)
        self.running.append(controller)
        self.qtbot.waitUntil(lambda: controller.choice_applied, timeout=5000)
        return controller

    def stop(self, controller: ReplayController) -> None:
        controller.shutdown()
        self.running.remove(controller)

    def state_file(self) -> Path:
        return self.home / "data" / STATE_FILE

    def saved(self) -> dict[str, Any]:
        return json.loads(self.state_file().read_text(encoding="utf-8"))


@pytest.fixture
def runs(qtbot: QtBot, reporter_home: Path) -> Iterator[_Restarts]:
    restarts = _Restarts(qtbot, reporter_home)
    yield restarts
    for controller in list(restarts.running):
        restarts.stop(controller)


def test_turning_replay_on_in_the_tray_survives_a_restart_and_leaves_the_config_file_alone(
        runs: _Restarts, qtbot: QtBot) -> None:
    runs.config("[replay]\nenabled = false\n")
    config_before = (runs.home / "config.toml").read_bytes()
    first = runs.start()
    assert first.state == OFF and not runs.state_file().exists()

    first.toggle()
    assert first.state == RECORDING
    qtbot.waitUntil(lambda: runs.state_file().exists(), timeout=5000)
    assert runs.saved() == {"enabled": True, "config_enabled": False}
    runs.stop(first)

    second = runs.start()
    assert second.state == RECORDING, "the tray choice was forgotten on restart"
    assert second.recorder is not None
    qtbot.waitUntil(lambda: second.recorder is not None and second.recorder.snapshot().count > 0, timeout=5000)
    assert (runs.home / "config.toml").read_bytes() == config_before
    assert AppContext.load().config.get("replay.enabled") is False  # the config still says its default

    second.toggle()
    assert second.state == OFF
    qtbot.waitUntil(lambda: runs.saved()["enabled"] is False, timeout=5000)
    runs.stop(second)
    assert runs.start().state == OFF


def test_turning_replay_off_in_the_tray_beats_the_config_that_turned_it_on(runs: _Restarts, qtbot: QtBot) -> None:
    runs.config("[replay]\nenabled = true\n")
    first = runs.start()
    assert first.state == RECORDING
    first.toggle()
    qtbot.waitUntil(lambda: runs.state_file().exists() and runs.saved()["enabled"] is False, timeout=5000)
    runs.stop(first)
    assert runs.start().state == OFF


def test_editing_the_config_value_after_the_choice_makes_the_config_win_again(runs: _Restarts, qtbot: QtBot) -> None:
    runs.config("[replay]\nenabled = false\n")
    first = runs.start()
    first.toggle()  # on, while the config says off
    qtbot.waitUntil(lambda: runs.state_file().exists(), timeout=5000)
    runs.stop(first)

    runs.config("[replay]\nenabled = true\n")  # the user (or a deployment) edits the value itself
    assert runs.start().state == RECORDING  # the config's value, not a stale tray choice
    runs.stop(runs.running[-1])
    runs.config("[replay]\nenabled = false\n")
    assert runs.start().state == OFF, "the old tray choice must not come back once the config was edited"


def test_quick_toggles_leave_the_last_choice_on_disk(runs: _Restarts, qtbot: QtBot) -> None:
    runs.config("[replay]\nenabled = false\n")
    controller = runs.start()
    for _ in range(5):
        controller.toggle()  # on, off, on, off, on: five writes racing on the worker pool
    assert controller.state == RECORDING
    qtbot.waitUntil(lambda: runs.state_file().exists() and runs.saved()["enabled"] is True, timeout=5000)
    qtbot.wait(200)  # any write still running must not put an older choice back
    assert runs.saved() == {"enabled": True, "config_enabled": False}


@pytest.mark.expect_log_warning
def test_a_damaged_state_file_falls_back_to_the_config_and_says_so(
        runs: _Restarts, caplog: pytest.LogCaptureFixture) -> None:
    runs.config("[replay]\nenabled = true\n")
    runs.state_file().parent.mkdir(parents=True, exist_ok=True)
    runs.state_file().write_text('{"enabled": "yes"', encoding="utf-8")
    assert runs.start().state == RECORDING
    assert any(STATE_FILE in r.getMessage() and "ignored" in r.getMessage() for r in caplog.records)


def test_a_locked_setting_ignores_the_saved_choice_and_greys_out_the_switch(
        runs: _Restarts, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    system = tmp_path / "system.toml"
    system.write_text('[admin]\nlocked = ["replay.enabled"]\n\n[replay]\nenabled = false\n', encoding="utf-8")
    monkeypatch.setenv("REPORTER_APP_SYSTEM_CONFIG", str(system))
    runs.state_file().parent.mkdir(parents=True, exist_ok=True)
    runs.state_file().write_text('{"enabled": true, "config_enabled": false}\n', encoding="utf-8")
    controller = runs.start()
    assert controller.state == OFF and controller.locked_by
    controller.toggle()
    assert controller.state == OFF, "the administrator's lock beats the tray"

    from ui.replay_control import ReplayMenu

    face = SimpleNamespace(tray=None, window=None, menu=None)
    menu = ReplayMenu(controller, face)
    assert not menu.switch.isEnabled() and str(system) in menu.switch.toolTip()
