"""How a setting is declared: once, with type, default and description.

The same declaration serves the config loader (validation, "did you mean"), `config show`,
the generated settings dialog and each tracker backend's own settings.
"""

from __future__ import annotations

from dataclasses import dataclass
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
