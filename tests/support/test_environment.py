"""What tests/conftest.py promises every test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from tests.support.env import REPO_ROOT


def test_reporter_home(reporter_home: Path) -> None:
    assert os.environ["REPORTER_APP_HOME"] == str(reporter_home)
    assert reporter_home.is_dir() and not any(reporter_home.iterdir())
    assert not Path(os.environ["REPORTER_APP_SYSTEM_CONFIG"]).exists()


def test_developer_env_does_not_leak(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    # The autouse fixture already ran for this test: check it in a new pytest process with this conftest.
    monkeypatch.setenv("PYTHONPATH", REPO_ROOT)
    monkeypatch.setenv("REPORTER_APP_TRACKER_TOKEN", "from-the-developer-shell")
    monkeypatch.setenv("REPORTER_APP_HOME", "/home/dev/.reporter")
    pytester.makepyfile(
        """
        import os
        def test_env():
            assert "REPORTER_APP_TRACKER_TOKEN" not in os.environ
            assert "REPORTER_APP_HOME" not in os.environ
        """
    )
    result = pytester.runpytest_subprocess("-p", "tests.conftest", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_qt_is_offscreen_by_default() -> None:
    assert os.environ["QT_QPA_PLATFORM"] == "offscreen"
    assert "WAYLAND_DISPLAY" not in os.environ


def test_widgets_offscreen(qtbot: QtBot) -> None:
    from PySide6.QtWidgets import QLineEdit

    edit = QLineEdit()
    qtbot.addWidget(edit)
    edit.show()
    qtbot.keyClicks(edit, "hello")
    assert edit.text() == "hello"


def test_markers_follow_fixtures(request: pytest.FixtureRequest, reporter_home: Path) -> None:
    assert request.node.get_closest_marker("display") is None
