"""mypy over the core and the collectors (STYLE.md: typed dataclasses, mypy clean on the core)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_core_and_capture_are_mypy_clean(monkeypatch):
    api = pytest.importorskip("mypy.api")
    monkeypatch.chdir(ROOT)  # the config names the packages relative to the checkout
    stdout, stderr, status = api.run(["--config-file", str(ROOT / "pyproject.toml"),
                                      "--cache-dir", str(ROOT / ".mypy_cache"), "--no-error-summary"])
    assert status == 0, stdout + stderr
