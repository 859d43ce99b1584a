"""What the settings dialog saves, without widgets: edit the user's TOML in place, validate it, write it atomically.

Only values the user changed are written, into their own file; everything else in it (comments,
blank lines, key order, sections we do not know) stays as they wrote it (reporter_app/config/edit.py,
the same code path as `reporter-app config set`). Defaults, the admin's file and the environment
stay where they are. The new text is validated by loading it exactly as the app would (same system
file, same environment) before the file is replaced, so a bad value is refused with the loader's own
one-line error and the file is kept.

The file is read again on the worker at save time, not reused from when the dialog opened: an edit
made meanwhile in a text editor (or by `config set`) is kept, not overwritten.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reporter_app.config import TABLE_ARRAYS, Config, Option, load_config
from reporter_app.config import edit
from reporter_app.fsutil import atomic_write_text
from reporter_app.paths import AppPaths

Document = edit.Document
# [tracker] keys every backend has; the rest belong to one backend and go when the backend changes.
COMMON_TRACKER_KEYS = ("backend", "url", "project", "timeout_seconds")


def read_document(path: Path) -> Document:
    """The user's file as an editable document (empty when there is none yet). Disk: call off the GUI thread."""
    return edit.read_document(path)


@dataclass
class SettingsChange:
    """What the dialog collected: new values by dotted key, the log sources, and secrets for the keyring."""

    values: dict[str, Any] = field(default_factory=dict)
    logs: list[dict[str, Any]] | None = None  # None: leave [[logs]] alone
    secrets: dict[str, str] = field(default_factory=dict)  # option key -> token (never written to a file)


def _log_entries(doc: Document, current: Config, logs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The dialog's rows as the user would write them: the loader fills every field with its default, and
    writing those back would clutter the user's entries; a field stays when the user's file has it or
    when it differs from the default."""
    defaults = {option.key: option.default for option in TABLE_ARRAYS["logs"].fields}
    written = {str(entry.get("name")): entry for entry in edit.get_value(doc, "logs") or []}
    entries = []
    for entry in logs:
        mine = written.get(str(entry.get("name")), {})
        entries.append({k: v for k, v in entry.items() if k in mine or k == "name" or v != defaults.get(k)})
    return entries


def apply_change(doc: Document, current: Config, change: SettingsChange) -> Document:
    """A new document: `doc` with the changed values set. A value equal to the effective one is not
    written (it stays wherever it comes from); a locked key is never written (the loader would ignore it)."""
    new = copy.deepcopy(doc)
    backend = change.values.get("tracker.backend", current.get("tracker.backend"))
    if backend != current.get("tracker.backend"):
        # The old backend's own settings would be warned about as leftovers: drop them.
        tracker = edit.get_value(new, "tracker") or {}
        for name in [k for k in tracker if k not in COMMON_TRACKER_KEYS and not isinstance(tracker[k], dict)]:
            edit.remove_value(new, f"tracker.{name}")
    for key, value in change.values.items():
        if current.is_locked(key):
            continue
        try:
            unchanged = current.get(key) == value and backend == current.get("tracker.backend")
        except KeyError:  # a setting of a backend that is not selected yet
            unchanged = False
        if not unchanged:
            edit.set_value(new, key, value)
    # Untouched in the dialog: leave the file's [[logs]] alone (the admin's entries are not copied into it).
    if change.logs is not None and not current.is_locked("logs") and change.logs != current.get("logs"):
        edit.set_table_array(new, "logs", _log_entries(new, current, change.logs))
    return new


def validate(paths: AppPaths, text: str, env: Mapping[str, str]) -> Config:
    """Load `text` as the user file, with the real system file and environment (ConfigError naming the real file)."""
    return edit.validate_text(paths, text, env)


def save(paths: AppPaths, current: Config, change: SettingsChange, env: Mapping[str, str]) -> Config:
    """Worker: read the file as it is now, apply the change, validate, store the secrets in the keyring,
    then replace the user file atomically. Returns the config as loaded from the written file."""
    document = apply_change(read_document(paths.user_config), current, change)
    text = edit.render(document)
    config = validate(paths, text, env)
    if change.secrets:
        from reporter_app.credentials import store_token

        backend, url = str(config.get("tracker.backend")), str(config.get("tracker.url"))
        for token in change.secrets.values():
            store_token(backend, url, token)
    atomic_write_text(paths.user_config, text)
    return load_config(paths, env=env)


def field_options(config: Config, backend_options: tuple[Option, ...]) -> list[Option]:
    """The [tracker] fields to show for a backend: the common ones, then the backend's own (as tracker.<key>)."""
    common = [config.options[f"tracker.{k}"] for k in COMMON_TRACKER_KEYS[1:] if f"tracker.{k}" in config.options]
    own = [dataclasses.replace(option, key=f"tracker.{option.key}") for option in backend_options]
    return common + own


def check_connection(paths: AppPaths, current: Config, change: SettingsChange, env: Mapping[str, str]) -> list[str]:
    """Worker: the tracker's own `check()` with the settings as edited (not yet saved), one line per result."""
    from reporter_app.credentials import CredentialError, get_token
    from reporter_app.trackers import load_backend
    from reporter_app.trackers.base import TrackerContext

    document = apply_change(read_document(paths.user_config), current, change)
    config = validate(paths, edit.render(document), env)
    backend = str(config.get("tracker.backend"))
    cls = load_backend(backend)
    settings = config.section("tracker")
    token = next(iter(change.secrets.values()), None)
    if token is None and any(option.secret for option in cls.options):
        try:
            token = get_token(backend, str(settings.get("url", "")), env)
        except CredentialError as exc:
            return [f"FAIL credentials: {exc}"]
    session = None
    if backend != "local":
        import requests

        session = requests.Session()
    tracker = cls(TrackerContext(settings=settings, data_dir=paths.data_dir, token=token,  # type: ignore[call-arg]
                                 session=session))
    return [f"{'ok  ' if result.ok else 'FAIL'} {result.name}: {result.detail}" for result in tracker.check()]
