"""The app's icons, from the `resources` package (SVG, rendered by Qt's svg image plugin)."""

from __future__ import annotations

from importlib import resources

from PySide6.QtGui import QIcon


def app_icon(attention: bool = False) -> QIcon:
    name = "reporter-app-attention.svg" if attention else "reporter-app.svg"
    # `resources` is a package, so this also works installed and frozen (package data).
    return QIcon(str(resources.files("resources") / "icons" / name))
