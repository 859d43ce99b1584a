"""Where the tests run, and what to do when a tool or service they need is missing."""

from __future__ import annotations

import os
import shutil
from typing import NoReturn

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ARTIFACTS_DIR = os.path.join(REPO_ROOT, ".test-artifacts")


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


IN_CI = _truthy(os.environ.get("CI"))
"""True under CI (``CI=true``)."""

REQUIRE_ALL = IN_CI or _truthy(os.environ.get("REPORTER_APP_TESTS_REQUIRE_ALL"))
"""True when no test may be skipped for missing infrastructure: under CI, and under ``scripts/test-all``
(which installs and starts everything the tests need)."""


def unavailable(reason: str) -> NoReturn:
    """Skip the test because ``reason`` (a missing tool or service); fail instead when everything is required.

    So CI can never pass by silently skipping: there, what the tests need must be there.
    """
    if REQUIRE_ALL:
        pytest.fail(f"test infrastructure missing (CI/test-all requires it): {reason}", pytrace=False)
    pytest.skip(reason)


def require_executable(name: str, package: str | None = None) -> str:
    """The path of ``name`` on PATH, or :func:`unavailable` naming the Debian package that has it."""
    path = shutil.which(name)
    if path is None:
        hint = f" (apt-get install {package})" if package else ""
        unavailable(f"{name} not found on PATH{hint}")
    return path
