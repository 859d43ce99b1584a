"""The Wayland screenshot path against a mock XDG portal on a private D-Bus session bus."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]


def run_client(tmp_path: Path, response: int) -> dict[str, object]:
    if shutil.which("dbus-run-session") is None:
        pytest.skip("system binary missing: dbus-run-session (apt-get install dbus)")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run(
        ["dbus-run-session", "--", sys.executable, str(HERE / "mock_portal.py"), "client", str(tmp_path), str(response)],
        capture_output=True, text=True, timeout=60, env=env, check=False,
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_portal_screenshot(tmp_path: Path) -> None:
    result = run_client(tmp_path, 0)
    assert result == {"width": 64, "height": 48, "png": result["png"], "file_left": False}
    assert isinstance(result["png"], int) and result["png"] > 0


def test_portal_cancelled(tmp_path: Path) -> None:
    assert run_client(tmp_path, 1) == {"unavailable": "the user cancelled the screenshot"}
