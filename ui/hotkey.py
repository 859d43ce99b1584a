"""Global hotkey: parse "Ctrl+Alt+B", then bind it with the platform's own mechanism.

Each platform lives in its own module, imported only on that platform. Whatever happens,
the tray menu still opens the form: a hotkey that can't be bound is a message, not a crash.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
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
    """A bound shortcut. Every signal is emitted on the GUI thread.

    X11, Windows and macOS bind at once (the constructor raises when they can't). The Wayland portal answers
    later, possibly after asking the user: until then `confirmed` is False, and its outcome arrives as `bound`
    (with the trigger the desktop shows, which the user may have changed) or `failed` (a HotkeyError;
    HotkeyUnavailable when the desktop has no way at all).
    """

    activated = Signal()
    bound = Signal(str)
    failed = Signal(object)

    def __init__(self, shortcut: Shortcut, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.shortcut = shortcut
        self.confirmed = True

    def close(self) -> None:
        """Release the grab."""


def session_kind(platform: str, environ: Mapping[str, str]) -> str:
    """Which global-shortcut mechanism applies: "windows", "macos", "wayland", "x11" or "none" (no display).

    The same session as capture sees (a Wayland session with DISPLAY set still has XWayland, but key grabs and
    screen grabs there only see XWayland clients), so it is decided once, by capture.screenshot.display_kind.
    """
    from capture.screenshot import ScreenshotUnavailable, display_kind

    try:
        return display_kind(environ, platform)
    except ScreenshotUnavailable:
        return "none"


def bind_global_hotkey(text: str, parent: QObject | None = None) -> GlobalHotkey:
    """Bind `text` for this session; raises HotkeyError/HotkeyUnavailable with a message for the user.

    On Wayland the returned hotkey is not confirmed yet: see GlobalHotkey's `bound` and `failed`.
    """
    shortcut = parse_shortcut(text)
    kind = session_kind(sys.platform, os.environ)
    if kind == "windows":
        from ui.hotkey_windows import WindowsHotkey

        return WindowsHotkey(shortcut, parent)
    if kind == "macos":
        from ui.hotkey_macos import MacHotkey

        return MacHotkey(shortcut, parent)
    if kind == "wayland":
        from ui.hotkey_portal import PortalHotkey

        return PortalHotkey(shortcut, parent)
    if kind == "none":
        raise HotkeyUnavailable("no X11 display, so no global shortcut; use the tray menu")
    from ui.hotkey_x11 import X11Hotkey

    return X11Hotkey(shortcut, parent)
