"""Tracker backends by stable id, imported lazily (a backend's HTTP stack is not paid for until used)."""

from __future__ import annotations

import importlib

from reporter_app.trackers.base import Tracker

BACKENDS: dict[str, str] = {
    "local": "reporter_app.trackers.local:LocalTracker",
}


class UnknownBackendError(ValueError):
    pass


def load_backend(name: str) -> type[Tracker]:
    try:
        dotted = BACKENDS[name]
    except KeyError:
        known = ", ".join(sorted(BACKENDS))
        raise UnknownBackendError(f"unknown tracker backend {name!r} (known: {known})") from None
    module_name, _, class_name = dotted.partition(":")
    cls: type[Tracker] = getattr(importlib.import_module(module_name), class_name)
    return cls
