"""The effective config: typed values, where each came from, what the administrator locked."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import Enum
from pathlib import Path
from typing import Any

from reporter_app.config.errors import closest
from reporter_app.config.options import Option
from reporter_app.config.schema import TABLE_ARRAYS, LogSource, SlaTarget, parse_duration
from reporter_app.model import Priority
from reporter_app.paths import AppPaths


@dataclass(frozen=True)
class Item:
    """One entry of an array of tables, with where it came from."""

    value: dict[str, Any]  # checked fields; optional fields without a default are absent
    origin: str


class Config:
    """Read-only view of the merged layers. Built by `load_config`, never by hand outside tests."""

    def __init__(
        self,
        *,
        paths: AppPaths,
        options: Mapping[str, Option],
        values: Mapping[str, Any],
        origins: Mapping[str, str],
        arrays: Mapping[str, tuple[Item, ...]],
        array_origins: Mapping[str, str],
        locked: Mapping[str, str],
        warnings: tuple[str, ...] = (),
        files: tuple[Path, ...] = (),
    ) -> None:
        self.paths = paths
        self.options = dict(options)  # includes the selected backend's settings as "tracker.<key>"
        self._values = dict(values)
        self._origins = dict(origins)
        self._arrays = dict(arrays)
        self._array_origins = dict(array_origins)
        self._locked = dict(locked)  # locked key or table -> system file that locked it
        self.warnings = warnings  # e.g. a locked key set in the user file, ignored
        self.files = files  # config files actually read, lowest layer first

    # ------------------------------------------------------------ values

    def get(self, key: str) -> Any:
        """The typed value of a declared key. Lists come back as fresh lists; an array of tables as a list of
        checked plain tables (dicts), missing optional fields absent: `severity.rules_from_config` reads those."""
        if key in self._values:
            value = self._values[key]
            return list(value) if isinstance(value, tuple) else value
        if key in self._arrays:
            return [dict(item.value) for item in self._arrays[key]]
        raise KeyError(self._unknown(key))

    def section(self, name: str) -> dict[str, Any]:
        """Every effective key under a table, nested: section("sla") -> {"P1": {"first_response": "1h", ...}, ...}.

        Arrays of tables come as lists of plain tables: section("privacy")["rules"].
        """
        prefix = name + "."
        result: dict[str, Any] = {}
        for key in [*self._values, *self._arrays]:
            if not key.startswith(prefix):
                continue
            *tables, leaf = key[len(prefix) :].split(".")
            target = result
            for table in tables:
                target = target.setdefault(table, {})
            target[leaf] = self.get(key)
        if not result:
            raise KeyError(self._unknown(name))
        return result

    @property
    def logs(self) -> list[LogSource]:
        return [LogSource(**entry) for entry in self.get("logs")]

    def sla(self, priority: Priority | str) -> SlaTarget:
        level = Priority(priority).value
        return SlaTarget(
            first_response=parse_duration(self.get(f"sla.{level}.first_response")),
            resolution=parse_duration(self.get(f"sla.{level}.resolution")),
        )

    # ------------------------------------------------------------ provenance

    def origin(self, key: str) -> str:
        """"default", "<file>:<line>", "environment REPORTER_APP_..." or "command line"."""
        if key in self._origins:
            return self._origins[key]
        if key in self._array_origins:
            return self._array_origins[key]
        raise KeyError(self._unknown(key))

    def is_locked(self, key: str) -> bool:
        """Locked directly or through its table ("tracker" locks "tracker.url")."""
        parts = key.split(".")
        return any(".".join(parts[:end]) in self._locked for end in range(1, len(parts) + 1))

    def locked_by(self, key: str) -> str:
        """The system file that locks `key`, or ""."""
        parts = key.split(".")
        for end in range(len(parts), 0, -1):
            if (prefix := ".".join(parts[:end])) in self._locked:
                return self._locked[prefix]
        return ""

    def _unknown(self, key: str) -> str:
        if key in self.options and self.options[key].secret:
            return f"{key} is a secret, never a config value; it comes from the keyring or REPORTER_APP_TRACKER_TOKEN"
        hint = closest(key, [*self._values, *self._arrays])
        return f"unknown config key {key!r}" + (f"; did you mean {hint!r}?" if hint else "")

    # ------------------------------------------------------------ rendering

    def as_toml(self) -> str:
        """The effective config as TOML, each value followed by its origin and lock, for `config show`."""
        files = ", ".join(str(path) for path in self.files) or "none (defaults only)"
        out = [
            "# Effective reporter-app configuration; each value is followed by where it came from.",
            f"# Files read: {files}",
        ]
        tables: dict[str, list[str]] = {}
        for key in self._values:
            table, _, _ = key.rpartition(".")
            tables.setdefault(table, []).append(key)
        pending_arrays = list(self._arrays)
        for table, keys in tables.items():
            out += ["", f"[{table}]"]
            out += [self._line(key.rpartition(".")[2], self._values[key], self._comment(key)) for key in keys]
            for array in [a for a in pending_arrays if a.rpartition(".")[0] == table]:
                out += self._render_array(array)
                pending_arrays.remove(array)
        for array in pending_arrays:
            out += self._render_array(array)
        return "\n".join(out) + "\n"

    def _comment(self, key: str) -> str:
        comment = self.origin(key)
        if self.is_locked(key):
            comment += f", locked by {self.locked_by(key)}"
        return comment

    def _render_array(self, key: str) -> list[str]:
        items = self._arrays[key]
        if not items:
            return ["", f"# [[{key}]]: none ({self._comment(key)})"]
        lines: list[str] = []
        for item in items:
            locked = f", locked by {self.locked_by(key)}" if self.is_locked(key) else ""
            lines += ["", f"[[{key}]]  # {item.origin}{locked}"]
            known = [option.key for option in TABLE_ARRAYS[key].fields]
            for name in sorted(item.value, key=lambda name: known.index(name) if name in known else len(known)):
                lines.append(f"{_toml_key(name)} = {toml_value(item.value[name])}")
        return lines

    @staticmethod
    def _line(name: str, value: Any, comment: str) -> str:
        return f"{_toml_key(name)} = {toml_value(value)}  # {comment}"


def _toml_key(name: str) -> str:
    bare = name.replace("_", "").replace("-", "").isalnum() and name.isascii()
    return name if bare else json.dumps(name)


def toml_value(value: Any) -> str:
    """A Python value as a TOML literal (JSON strings are valid TOML basic strings)."""
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        # TOML wants DEL escaped too, which JSON leaves raw.
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{_toml_key(str(k))} = {toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    raise TypeError(f"cannot render {type(value).__name__} as TOML")

