"""X11 global hotkey: XGrabKey on the root window, serviced on the GUI thread.

We use our own python-xlib connection and watch its socket with a QSocketNotifier, so no
extra thread is needed and the callback already runs where widgets live. The grab is made
once per CapsLock/NumLock combination because X matches modifiers exactly.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, QSocketNotifier

from ui.hotkey import GlobalHotkey, HotkeyError, Shortcut, taken_message

log = logging.getLogger(__name__)


def _keysym_name(key: str) -> str:
    # X names letters in lower case ("b"); named keys keep their spelling ("F12", "Print").
    return key.lower() if len(key) == 1 else key


class X11Hotkey(GlobalHotkey):
    def __init__(self, shortcut: Shortcut, parent: QObject | None = None, display_name: str | None = None) -> None:
        super().__init__(shortcut, parent)
        from Xlib import XK, X, display, error

        self._X = X
        try:
            self._display: Any = display.Display(display_name)
        except Exception as exc:  # Xlib raises its own DisplayError family
            raise HotkeyError(f"cannot open the X display for the shortcut: {exc}") from exc
        self._root = self._display.screen().root
        keysym = XK.string_to_keysym(_keysym_name(shortcut.key))
        self.keycode = self._display.keysym_to_keycode(keysym) if keysym else 0
        if not self.keycode:
            self._display.close()
            raise HotkeyError(f"the key {shortcut.key!r} in {shortcut} does not exist on this keyboard")
        masks = {"ctrl": X.ControlMask, "alt": X.Mod1Mask, "shift": X.ShiftMask, "super": X.Mod4Mask}
        self.modifiers = 0
        for name in shortcut.modifiers:
            self.modifiers |= masks[name]
        self._variants = [self.modifiers | extra for extra in self._lock_variants()]
        catcher = error.CatchError(error.BadAccess)
        for mods in self._variants:
            self._root.grab_key(self.keycode, mods, True, X.GrabModeAsync, X.GrabModeAsync, onerror=catcher)
        self._display.sync()  # errors arrive asynchronously: sync makes BadAccess show up now
        if catcher.get_error() is not None:
            self._ungrab()
            self._display.close()
            raise HotkeyError(taken_message(shortcut))
        self._notifier = QSocketNotifier(self._display.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._service)
        log.info("global shortcut %s grabbed (keycode %d)", shortcut, self.keycode)

    def _lock_variants(self) -> list[int]:
        """CapsLock and NumLock change the modifier state, so grab each combination of them."""
        X = self._X
        numlock = X.Mod2Mask
        try:
            from Xlib import XK

            code = self._display.keysym_to_keycode(XK.string_to_keysym("Num_Lock"))
            for index, codes in enumerate(self._display.get_modifier_mapping()):
                if code and code in codes:
                    numlock = 1 << index
        except Exception:  # a missing mapping just means the common default
            pass
        return [0, X.LockMask, numlock, X.LockMask | numlock]

    def _service(self, *_: object) -> None:
        fired = False
        while self._display.pending_events():
            event = self._display.next_event()
            if event.type == self._X.KeyPress and event.detail == self.keycode:
                fired = True
        if fired:  # several queued presses (autorepeat) open the form once
            self.activated.emit()

    def _ungrab(self) -> None:
        for mods in self._variants:
            self._root.ungrab_key(self.keycode, mods)
        self._display.sync()

    def close(self) -> None:
        if getattr(self, "_notifier", None) is None:
            return
        self._notifier.setEnabled(False)
        self._notifier = None  # type: ignore[assignment]
        try:
            self._ungrab()
        finally:
            self._display.close()
