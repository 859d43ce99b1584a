"""Fixtures and rules for every tier. The machinery lives in ``tests/support`` (see its ``__init__``).

- Every test fails when it logs a WARNING or worse it did not declare (``tests.support.log_guard``:
  ``@pytest.mark.expect_log_warning(match=..., logger=...)`` or ``with log_guard.expected(...)``).
- ``reporter_home``: a fresh ``REPORTER_APP_HOME`` (config + data), with no system config file.
- ``REPORTER_APP_*`` variables from the developer's shell never leak into a test.
- Qt runs offscreen unless a test asks for a screen (``xvfb``, ``xvfb_dual``, ``openbox``, ``tray_host``);
  the system tier's QApplication lives on Xvfb (``tests/system/conftest.py``).
- Infrastructure that is missing skips locally and fails under CI or scripts/test-all (``tests.support.env``).
- Markers ``display``, ``keyring`` and ``redmine`` are added from the fixtures a test uses: ``-m "not redmine"``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

pytest_plugins = [
    "pytester",
    "tests.support.log_guard",
    "tests.support.display",
    "tests.support.secret_service",
]

# One QApplication per process, created on first use by pytest-qt's `qapp`: offscreen, unless the system tier's
# conftest puts it on Xvfb. A subprocess started by a test that uses `xvfb` gets QT_QPA_PLATFORM=xcb from it.
os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ.pop("WAYLAND_DISPLAY", None)

# Qt warns (and qt_log_level_fail turns the warning into a failure) without a private XDG_RUNTIME_DIR.
def _private_dir(path: str) -> bool:
    try:
        st = os.stat(path)
    except OSError:
        return False
    return os.path.isdir(path) and st.st_uid == os.getuid() and (st.st_mode & 0o777) == 0o700


if not _private_dir(os.environ.get("XDG_RUNTIME_DIR", "")):
    _runtime = os.path.join(tempfile.gettempdir(), f"reporter-app-tests-runtime-{os.getuid()}")
    os.makedirs(_runtime, mode=0o700, exist_ok=True)
    if not _private_dir(_runtime):
        _runtime = tempfile.mkdtemp(prefix="reporter-app-tests-runtime-")
    os.environ["XDG_RUNTIME_DIR"] = _runtime

_MARKERS_BY_FIXTURE = {
    "display": {"xvfb", "xvfb_dual", "xvfb_server", "xvfb_dual_server", "openbox", "tray_host"},
    "keyring": {"secret_service"},
    "redmine": {"redmine", "redmine_server"},
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        for marker, fixtures in _MARKERS_BY_FIXTURE.items():
            if used & fixtures:
                item.add_marker(marker)


@pytest.fixture(autouse=True)
def _no_reporter_app_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's REPORTER_APP_HOME, token, ... must not change what a test sees."""
    for name in list(os.environ):
        if name.startswith("REPORTER_APP_") and not name.startswith("REPORTER_APP_TEST"):
            monkeypatch.delenv(name)


@pytest.fixture
def reporter_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty directory as REPORTER_APP_HOME (config and data), and a system config path that does not exist."""
    home = tmp_path / "reporter-home"
    home.mkdir()
    monkeypatch.setenv("REPORTER_APP_HOME", str(home))
    monkeypatch.setenv("REPORTER_APP_SYSTEM_CONFIG", str(tmp_path / "no-such-system-config.toml"))
    return home
