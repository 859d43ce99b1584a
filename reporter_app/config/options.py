"""How a setting is declared: once, with type, default and description.

The same declaration serves the config loader (validation, "did you mean"), `config show`,
the generated settings dialog and each tracker backend's own settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Mapping
from typing import Any


@dataclass(frozen=True)
class Option:
    key: str  # dotted: "tracker.url"; inside a backend's declaration just "url"
    type: type | tuple[type, ...]  # str, int, bool, float, list
    default: Any
    description: str
    choices: tuple[str, ...] = ()
    # A secret never lives in a config file: it comes from the keyring or REPORTER_APP_TRACKER_TOKEN.
    secret: bool = False
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None


def parse_pairs(value: object, setting: str) -> dict[str, str]:
    """A map option: 'KEY=value' entries (a TOML array of strings, how config declares maps) or a table."""
    if isinstance(value, Mapping):
        return {str(k).strip(): str(v).strip() for k, v in value.items()}
    if isinstance(value, str):
        value = [value]
    pairs: dict[str, str] = {}
    for entry in value if isinstance(value, (list, tuple)) else ():
        key, sep, name = str(entry).partition("=")
        if not sep or not key.strip():
            raise ValueError(f"tracker.{setting}: {entry!r} should look like 'KEY=value'")
        pairs[key.strip()] = name.strip()
    return pairs
