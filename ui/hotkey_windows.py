"""Windows global hotkey: RegisterHotKey, WM_HOTKEY read by a native event filter on the GUI thread.

Untested on CI (no Windows runner yet); kept small and guarded by the caller's platform check. The pure mapping
(`virtual_key`, `windows_modifiers`) runs in the Linux unit tests.
"""

from __future__ import annotations

import ctypes
from typing import Any

from PySide6.QtCore import QAbstractNativeEventFilter, QCoreApplication, QObject

from ui.hotkey import GlobalHotkey, HotkeyError, Shortcut, taken_message

MOD_ALT, MOD_CONTROL, MOD_SHIFT, MOD_WIN, MOD_NOREPEAT = 0x1, 0x2, 0x4, 0x8, 0x4000
WM_HOTKEY = 0x0312
ERROR_HOTKEY_ALREADY_REGISTERED = 1409
_VK_NAMED = {"PRINT": 0x2C, "SPACE": 0x20, "PAUSE": 0x13}
_HOTKEY_ID = 0xB0B


def virtual_key(key: str) -> int:
    upper = key.upper()
    if len(upper) == 1 and upper.isascii() and upper.isalnum():  # VK_0..VK_9, VK_A..VK_Z are their ASCII codes
        return ord(upper)
    if upper.startswith("F") and upper[1:].isdigit() and 1 <= int(upper[1:]) <= 24:
        return 0x70 + int(upper[1:]) - 1
    if upper in _VK_NAMED:
        return _VK_NAMED[upper]
    raise HotkeyError(f"the key {key!r} is not supported for a global shortcut on Windows")


def windows_modifiers(shortcut: Shortcut) -> int:
    """RegisterHotKey's fsModifiers; MOD_NOREPEAT so holding the keys does not open the form again and again."""
    mods = MOD_NOREPEAT
    for name, flag in (("ctrl", MOD_CONTROL), ("alt", MOD_ALT), ("shift", MOD_SHIFT), ("super", MOD_WIN)):
        if name in shortcut.modifiers:
            mods |= flag
    return mods


class _Filter(QAbstractNativeEventFilter):
    def __init__(self, owner: WindowsHotkey) -> None:
        super().__init__()
        self._owner = owner

    def nativeEventFilter(self, event_type: Any, message: Any) -> tuple[bool, int]:  # noqa: N802 - Qt's name
        from ctypes import wintypes

        if bytes(event_type) == b"windows_generic_MSG":
            msg = wintypes.MSG.from_address(int(message))
            if msg.message == WM_HOTKEY and msg.wParam == _HOTKEY_ID:
                self._owner.activated.emit()
                return True, 0
        return False, 0


class WindowsHotkey(GlobalHotkey):
    def __init__(self, shortcut: Shortcut, parent: QObject | None = None) -> None:
        super().__init__(shortcut, parent)
        key, mods = virtual_key(shortcut.key), windows_modifiers(shortcut)
        # use_last_error: GetLastError read by ctypes right after the call, before anything else can reset it.
        user32 = ctypes.WinDLL("user32", use_last_error=True)  # type: ignore[attr-defined]
        # hWnd NULL: WM_HOTKEY goes to this (the GUI) thread's queue, where Qt's filter sees it.
        if not user32.RegisterHotKey(None, _HOTKEY_ID, mods, key):
            error = ctypes.get_last_error()  # type: ignore[attr-defined]
            if error == ERROR_HOTKEY_ALREADY_REGISTERED:
                raise HotkeyError(taken_message(shortcut))
            raise HotkeyError(f"Windows refused the shortcut {shortcut} (error {error})")
        self._user32 = user32
        self._filter = _Filter(self)
        QCoreApplication.instance().installNativeEventFilter(self._filter)  # type: ignore[union-attr]

    def close(self) -> None:
        if getattr(self, "_filter", None) is None:
            return
        self._user32.UnregisterHotKey(None, _HOTKEY_ID)
        QCoreApplication.instance().removeNativeEventFilter(self._filter)  # type: ignore[union-attr]
        self._filter = None  # type: ignore[assignment]
