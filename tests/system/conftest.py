"""System tier: the application as a user meets it, on a virtual X screen.

In this tier the process' QApplication (pytest-qt's ``qapp``) is created on the session's Xvfb (``xvfb_server``,
1920x1080) with the xcb platform, not offscreen: DISPLAY stays set for the whole process. A test that needs two
monitors, a window manager or a tray host asks for ``xvfb_dual``, ``openbox`` or ``tray_host``; an in-process
QApplication cannot move to another display, so run the app as a subprocess for those (``xvfb_dual.env``).
Run this tier in its own pytest process (``scripts/test-all`` does): a QApplication made offscreen by another tier
cannot be used here.

The Redmine fixtures (``redmine``, ``redmine_server``) are available here too.
"""

from __future__ import annotations

import os
import sys

import pytest

from tests.support.display import XServer
from tests.support.redmine import redmine, redmine_server  # noqa: F401  (fixtures)


@pytest.fixture(scope="session")
def qapp_args(pytestconfig: pytest.Config, xvfb_server: XServer) -> list[str]:
    """Overrides pytest-qt's: runs before the QApplication exists, so it is created on Xvfb."""
    qtwidgets = sys.modules.get("PySide6.QtWidgets")
    app = qtwidgets.QApplication.instance() if qtwidgets else None
    if app is not None and app.platformName() != "xcb":
        pytest.fail(
            f"a QApplication already exists on the {app.platformName()!r} platform: run tests/system in its own "
            "pytest process (scripts/test-all --tier system)",
            pytrace=False,
        )
    os.environ["DISPLAY"] = xvfb_server.display
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    return [pytestconfig.getini("qt_qapp_name")]
