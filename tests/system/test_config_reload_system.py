"""The real program under Xvfb + openbox: `reporter-app config set hotkey.report ...` while it runs re-binds the
shortcut without a restart; the new keys open the form, the old ones no longer do."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.display import XServer
from tests.system.support_ui import REPO_ROOT, RunningApp, start_app, xdotool

CONFIG = '# my settings\n[reporter]\nname = "Ada Tester"   # keep this comment\n'


@pytest.fixture
def app(openbox: XServer, reporter_home: Path) -> Iterator[RunningApp]:
    (reporter_home / "config.toml").write_text(CONFIG, encoding="utf-8")
    running = start_app(openbox, reporter_home)
    try:
        running.wait_trace("ready")
        yield running
    finally:
        running.stop()


def _wait_reload_of(app: RunningApp, key: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not any(key in detail.split(",") for detail in app.details("config-reloaded")):
        app.wait_trace("config-reloaded", timeout=max(0.1, deadline - time.monotonic()))


def _form_exposed(app: RunningApp, seconds: float) -> bool:
    try:
        app.wait_trace("form-exposed", timeout=seconds)
    except AssertionError:
        return False
    return True


def test_config_set_rebinds_the_running_apps_shortcut(app: RunningApp, openbox: XServer,
                                                      reporter_home: Path) -> None:
    env = dict(openbox.env, REPORTER_APP_HOME=str(reporter_home))
    done = subprocess.run([sys.executable, "-m", "reporter_app.cli", "config", "set", "hotkey.report", "Ctrl+Alt+R"],
                          env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert (reporter_home / "config.toml").read_text(encoding="utf-8") == \
        CONFIG + '\n[hotkey]\nreport = "Ctrl+Alt+R"\n'
    _wait_reload_of(app, "hotkey.report")

    xdotool(openbox, "key", "--delay", "0", "ctrl+alt+b")
    assert not _form_exposed(app, 1.5), "the old shortcut still opens the form"
    xdotool(openbox, "key", "--delay", "0", "ctrl+alt+r")
    assert _form_exposed(app, 10.0), "the new shortcut does not open the form:\n" + "\n".join(app.output)
