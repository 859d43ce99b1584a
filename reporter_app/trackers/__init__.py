"""Tracker backends by stable id, imported lazily (a backend's HTTP stack is not paid for until used)."""

from __future__ import annotations

import importlib

from reporter_app.trackers.base import Tracker

BACKENDS: dict[str, str] = {
    "local": "reporter_app.trackers.local:LocalTracker",
    "redmine": "reporter_app.trackers.redmine:RedmineTracker",
    "webhook": "reporter_app.trackers.webhook:WebhookTracker",
    "jira": "reporter_app.trackers.jira:JiraTracker",
    "github": "reporter_app.trackers.github:GitHubTracker",
    "gitlab": "reporter_app.trackers.gitlab:GitLabTracker",
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
