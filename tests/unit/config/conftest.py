"""Config test fixtures: a home in tmp_path, and a tracker registry made of fakes.

The registry is replaced for every test so these tests do not depend on which real backends
exist yet or what they declare; a test that asks for `real_backends` gets the real registry.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import pytest

import reporter_app.trackers as trackers
from reporter_app.config.options import Option
from reporter_app.paths import AppPaths
from reporter_app.trackers.base import Tracker

FAKE_MODULE = "reporter_app_config_test_backends"


class _FakeTracker(Tracker):
    def check(self) -> Any:
        return []

    def limits(self) -> Any:
        return None

    def find(self, key: str) -> Any:
        return None

    def create(self, report: Any, bundle: Any) -> Any:
        raise NotImplementedError

    def add_occurrence(self, ref: Any, report: Any, bundle: Any) -> None:
        raise NotImplementedError

    def statuses(self, refs: Any) -> Any:
        return {}


class FakeLocal(_FakeTracker):
    name = "local"
    options: ClassVar[tuple[Option, ...]] = (
        Option("folder", str, "", "Folder that holds the tickets."),
        Option("key_prefix", str, "LOCAL", "Ticket key prefix."),
    )


class FakeRemote(_FakeTracker):
    name = "remote"
    options: ClassVar[tuple[Option, ...]] = (
        Option("space", str, "", "Space the tickets go to.", required=True),
        Option("retries", int, 3, "Retries per request.", minimum=0, maximum=10),
        Option("api_key", str, None, "The credential.", secret=True),
    )


@pytest.fixture
def real_backends() -> dict[str, str]:
    """Ask for this to keep the real tracker registry instead of the fakes."""
    return dict(trackers.BACKENDS)


@pytest.fixture(autouse=True)
def fake_backends(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    if "real_backends" in request.fixturenames:
        return dict(trackers.BACKENDS)
    module = types.ModuleType(FAKE_MODULE)
    module.FakeLocal = FakeLocal  # type: ignore[attr-defined]
    module.FakeRemote = FakeRemote  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, FAKE_MODULE, module)
    registry = {
        "local": f"{FAKE_MODULE}:FakeLocal",
        "remote": f"{FAKE_MODULE}:FakeRemote",
        "broken": "reporter_app_config_no_such_module:Nope",
    }
    monkeypatch.setattr(trackers, "BACKENDS", registry)
    return registry


@pytest.fixture
def paths(tmp_path: Path) -> AppPaths:
    etc = tmp_path / "etc"
    return AppPaths(config_dir=tmp_path / "home", data_dir=tmp_path / "data", system_config=etc / "config.toml")


def _writer(path: Path) -> Callable[[str], Path]:
    def write(text: str) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def user_file(paths: AppPaths) -> Callable[[str], Path]:
    """Write the user config file; returns its path."""
    return _writer(paths.user_config)


@pytest.fixture
def system_file(paths: AppPaths) -> Callable[[str], Path]:
    """Write the system (admin) config file; returns its path."""
    return _writer(paths.system_config)
