"""Global hotkey: parse "Ctrl+Alt+B", then bind it with the platform's own mechanism.

Each platform lives in its own module, imported only on that platform. Whatever happens,
the tray menu still opens the form: a hotkey that can't be bound is a message, not a crash.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

MODIFIER_ALIASES = {
    "ctrl": "ctrl", "control": "ctrl",
    "alt": "alt", "option": "alt",
    "shift": "shift",
    "super": "super", "meta": "super", "win": "super", "cmd": "super", "command": "super",
}
# Offered when the configured combination is taken by another program.
ALTERNATIVES = ("Ctrl+Alt+R", "Ctrl+Shift+F12", "Super+Shift+B")


class HotkeyError(Exception):
    """The shortcut can't be used: bad syntax, taken by another program, or no way to grab keys here."""


class HotkeyUnavailable(HotkeyError):
    """This platform or session offers no global key grab we support."""


@dataclass(frozen=True)
class Shortcut:
    modifiers: frozenset[str]  # subset of {"ctrl", "alt", "shift", "super"}
    key: str  # as written by the user, e.g. "B", "F12", "Print"

    def __str__(self) -> str:
        order = ("ctrl", "alt", "shift", "super")
        names = {"ctrl": "Ctrl", "alt": "Alt", "shift": "Shift", "super": "Super"}
        return "+".join([names[m] for m in order if m in self.modifiers] + [self.key])


def parse_shortcut(text: str) -> Shortcut:
    """'Ctrl+Alt+B' -> Shortcut({'ctrl','alt'}, 'B'). Raises HotkeyError naming what is wrong."""
    parts = [p.strip() for p in text.replace(" ", "").split("+")]
    if not text.strip() or any(not p for p in parts):
        raise HotkeyError(f"cannot read the shortcut {text!r}: write it like Ctrl+Alt+B")
    *mods, key = parts
    modifiers = set()
    for mod in mods:
        canonical = MODIFIER_ALIASES.get(mod.lower())
        if canonical is None:
            raise HotkeyError(f"unknown modifier {mod!r} in {text!r} (use Ctrl, Alt, Shift or Super)")
        modifiers.add(canonical)
    if key.lower() in MODIFIER_ALIASES:
        raise HotkeyError(f"the shortcut {text!r} has no key, only modifiers")
    if not modifiers and not (key.upper().startswith("F") and key[1:].isdigit()) and key.lower() != "print":
        # A bare letter grabbed globally would stop the user from typing it anywhere.
        raise HotkeyError(f"the shortcut {text!r} needs a modifier (Ctrl, Alt, Shift or Super)")
    return Shortcut(frozenset(modifiers), key.upper() if len(key) == 1 else key)


def taken_message(shortcut: Shortcut) -> str:
    alternatives = ", ".join(a for a in ALTERNATIVES if a != str(shortcut))
    return (f"{shortcut} is already used by another program. Choose another shortcut in Settings "
            f"(for example {alternatives}), or use the tray menu's \"Report a problem\".")


class GlobalHotkey(QObject):
    """A bound shortcut. `activated` is emitted on the GUI thread."""

    activated = Signal()

    def __init__(self, shortcut: Shortcut, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.shortcut = shortcut

    def close(self) -> None:
        """Release the grab."""


def bind_global_hotkey(text: str, parent: QObject | None = None) -> GlobalHotkey:
    """Bind `text` for this session; raises HotkeyError/HotkeyUnavailable with a message for the user."""
    shortcut = parse_shortcut(text)
    if sys.platform == "win32":
        from ui.hotkey_windows import WindowsHotkey

        return WindowsHotkey(shortcut, parent)
    if sys.platform == "darwin":
        raise HotkeyUnavailable("a global shortcut is not available on macOS yet; use the tray menu's "
                                "\"Report a problem\"")
    if os.environ.get("XDG_SESSION_TYPE") == "wayland" or (os.environ.get("WAYLAND_DISPLAY")
                                                           and not os.environ.get("DISPLAY")):
        # Key grabs only see XWayland clients; the GlobalShortcuts portal is the way (not wired yet).
        raise HotkeyUnavailable("a global shortcut is not available in this Wayland session yet; bind "
                                "`reporter-app report --gui` in your desktop's keyboard settings, or use the tray menu")
    if not os.environ.get("DISPLAY"):
        raise HotkeyUnavailable("no X11 display, so no global shortcut; use the tray menu")
    from ui.hotkey_x11 import X11Hotkey

    return X11Hotkey(shortcut, parent)
