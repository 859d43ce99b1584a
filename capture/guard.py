"""Run one collector so that its failure is recorded instead of costing the report.

Like apport's ``HookError_<name>``: a broken collector leaves a one-line reason in the
report's ``errors`` mapping and the caller carries on with a fallback value.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, MutableMapping
from typing import TypeVar

T = TypeVar("T")
F = TypeVar("F")

log = logging.getLogger(__name__)


def describe_error(exc: BaseException) -> str:
    """``"ExceptionType: message"``, short enough for a report field."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    name = type(exc).__name__
    return f"{name}: {message}" if message else name


def guarded(
    name: str,
    collector: Callable[[], T],
    errors: MutableMapping[str, str],
    fallback: F,
) -> T | F:
    """Return ``collector()``; on any ``Exception`` record it under ``errors[name]`` and return ``fallback``.

    ``BaseException`` (KeyboardInterrupt, SystemExit) is deliberately not caught: those
    mean the user or the runtime wants us to stop, not that a collector is broken.
    """
    try:
        return collector()
    except Exception as exc:  # noqa: BLE001 - the whole point is to contain any failure
        errors[name] = describe_error(exc)
        # debug, not warning: the failure is already part of the report, and a warning
        # would fail tests that treat logged warnings as errors.
        log.debug("collector %s failed", name, exc_info=True)
        return fallback
