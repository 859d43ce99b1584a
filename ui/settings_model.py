"""What the settings dialog saves, without widgets: edit the user's TOML, validate it, write it atomically.

Only values the user changed are written, into their own file (kept otherwise as it was, minus
comments); defaults, the admin's file and the environment stay where they are. The new text is
validated by loading it exactly as the app would (same system file, same environment) before the
file is replaced, so a bad value is refused with the loader's own one-line error.

`tomllib` only reads; the few value types the config uses are written by `toml_value`, the
renderer `config show` already uses, so no TOML-writing dependency is needed.
"""

from __future__ import annotations

import copy
import dataclasses
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reporter_app.config import Config, ConfigError, Option, load_config
from reporter_app.config.effective import toml_value
from reporter_app.fsutil import atomic_write_text
from reporter_app.paths import AppPaths

Document = dict[str, Any]
# [tracker] keys every backend has; the rest belong to one backend and go when the backend changes.
COMMON_TRACKER_KEYS = ("backend", "url", "project", "timeout_seconds")


def read_document(path: Path) -> Document:
    """The user's file as a nested dict ({} when there is none yet). Disk: call off the GUI thread."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


def _bare(name: str) -> bool:
    return name.replace("_", "").replace("-", "").isalnum() and name.isascii()


def _key(name: str) -> str:
    return name if _bare(name) else toml_value(name)


def dump_toml(doc: Mapping[str, Any]) -> str:
    """Tables, sub-tables, arrays of tables and plain values: what a reporter-app config holds."""
    lines: list[str] = []

    def table(values: Mapping[str, Any], path: list[str]) -> None:
        plain = {k: v for k, v in values.items() if not isinstance(v, dict) and not _is_table_array(v)}
        if plain and path:
            lines.extend(["", f"[{'.'.join(_key(p) for p in path)}]"])
        lines.extend(f"{_key(k)} = {toml_value(v)}" for k, v in plain.items())
        for name, value in values.items():
            if isinstance(value, dict):
                table(value, [*path, name])
            elif _is_table_array(value):
                for entry in value:
                    lines.extend(["", f"[[{'.'.join(_key(p) for p in [*path, name])}]]"])
                    lines.extend(f"{_key(k)} = {toml_value(v)}" for k, v in entry.items())

    table(doc, [])
    return "\n".join(lines).lstrip("\n") + "\n"


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(item, dict) for item in value)


@dataclass
class SettingsChange:
    """What the dialog collected: new values by dotted key, the log sources, and secrets for the keyring."""

    values: dict[str, Any] = field(default_factory=dict)
    logs: list[dict[str, Any]] | None = None  # None: leave [[logs]] alone
    secrets: dict[str, str] = field(default_factory=dict)  # option key -> token (never written to a file)


def apply_change(doc: Document, current: Config, change: SettingsChange) -> Document:
    """A new document: `doc` with the changed values set. A value equal to the effective one is not
    written (it stays wherever it comes from); a locked key is never written (the loader would ignore it)."""
    new = copy.deepcopy(doc)
    backend = change.values.get("tracker.backend", current.get("tracker.backend"))
    if backend != current.get("tracker.backend"):
        # The old backend's own settings would be warned about as leftovers: drop them.
        tracker = new.get("tracker", {})
        for name in [k for k in tracker if k not in COMMON_TRACKER_KEYS and not isinstance(tracker[k], dict)]:
            del tracker[name]
    for key, value in change.values.items():
        if current.is_locked(key):
            continue
        try:
            unchanged = current.get(key) == value and backend == current.get("tracker.backend")
        except KeyError:  # a setting of a backend that is not selected yet
            unchanged = False
        if unchanged:
            continue
        *tables, leaf = key.split(".")
        target = new
        for name in tables:
            target = target.setdefault(name, {})
        target[leaf] = value
    if change.logs is not None and not current.is_locked("logs"):
        new["logs"] = [dict(entry) for entry in change.logs]
        if not new["logs"]:
            del new["logs"]
    return new


def validate(paths: AppPaths, text: str, env: Mapping[str, str]) -> Config:
    """Load `text` as the user file, with the real system file and environment. Raises ConfigError
    whose location names the real user file, not the scratch copy."""
    with tempfile.TemporaryDirectory(prefix="reporter-app-settings-") as scratch:
        trial = AppPaths(config_dir=Path(scratch), data_dir=paths.data_dir, system_config=paths.system_config)
        trial.user_config.write_text(text, encoding="utf-8")
        try:
            return load_config(trial, env=env)
        except ConfigError as exc:
            exc.where = exc.where.replace(str(trial.user_config), str(paths.user_config))
            raise


def save(paths: AppPaths, doc: Document, change: SettingsChange, env: Mapping[str, str]) -> Config:
    """Worker: validate, store the secrets in the keyring, then replace the user file atomically."""
    text = dump_toml(doc)
    config = validate(paths, text, env)
    if change.secrets:
        from reporter_app.credentials import store_token

        backend, url = str(config.get("tracker.backend")), str(config.get("tracker.url"))
        for token in change.secrets.values():
            store_token(backend, url, token)
    atomic_write_text(paths.user_config, text)
    return config


def field_options(config: Config, backend_options: tuple[Option, ...]) -> list[Option]:
    """The [tracker] fields to show for a backend: the common ones, then the backend's own (as tracker.<key>)."""
    common = [config.options[f"tracker.{k}"] for k in COMMON_TRACKER_KEYS[1:] if f"tracker.{k}" in config.options]
    own = [dataclasses.replace(option, key=f"tracker.{option.key}") for option in backend_options]
    return common + own


def check_connection(paths: AppPaths, doc: Document, change: SettingsChange, env: Mapping[str, str]) -> list[str]:
    """Worker: the tracker's own `check()` with the settings as edited (not yet saved), one line per result."""
    from reporter_app.credentials import CredentialError, get_token
    from reporter_app.trackers import load_backend
    from reporter_app.trackers.base import TrackerContext

    config = validate(paths, dump_toml(doc), env)
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
