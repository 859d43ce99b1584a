"""macOS global hotkey: Carbon's RegisterEventHotKey, its event handler dispatching into the Qt signal.

Carbon hot keys still work on current macOS and, unlike an event tap, need no Accessibility permission. The
handler runs on the main thread (Qt's Cocoa event loop dispatches Carbon events there); it only queues the Qt
signal, so no app code runs inside Carbon's callback. ctypes only: no PyObjC dependency.

Untested on CI (no Mac runner): only the pure mapping (`carbon_key_code`, `carbon_modifiers`) runs in the Linux
tests. Key codes are the physical ANSI-layout positions of HIToolbox/Events.h (kVK_ANSI_*): "B" means the key where
B is on a US keyboard.
"""

from __future__ import annotations

import ctypes
import logging
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal

from ui.hotkey import GlobalHotkey, HotkeyError, Shortcut, taken_message

log = logging.getLogger(__name__)

# HIToolbox/Events.h modifier bits.
CMD_KEY, SHIFT_KEY, OPTION_KEY, CONTROL_KEY = 0x0100, 0x0200, 0x0800, 0x1000
_MODIFIER_BITS = {"ctrl": CONTROL_KEY, "alt": OPTION_KEY, "shift": SHIFT_KEY, "super": CMD_KEY}
_ANSI_KEYS = {
    "A": 0x00, "S": 0x01, "D": 0x02, "F": 0x03, "H": 0x04, "G": 0x05, "Z": 0x06, "X": 0x07, "C": 0x08, "V": 0x09,
    "B": 0x0B, "Q": 0x0C, "W": 0x0D, "E": 0x0E, "R": 0x0F, "Y": 0x10, "T": 0x11, "1": 0x12, "2": 0x13, "3": 0x14,
    "4": 0x15, "6": 0x16, "5": 0x17, "9": 0x19, "7": 0x1A, "8": 0x1C, "0": 0x1D, "O": 0x1F, "U": 0x20, "I": 0x22,
    "P": 0x23, "L": 0x25, "J": 0x26, "K": 0x28, "N": 0x2D, "M": 0x2E,
}
_FUNCTION_KEYS = {
    1: 0x7A, 2: 0x78, 3: 0x63, 4: 0x76, 5: 0x60, 6: 0x61, 7: 0x62, 8: 0x64, 9: 0x65, 10: 0x6D,
    11: 0x67, 12: 0x6F, 13: 0x69, 14: 0x6B, 15: 0x71, 16: 0x6A, 17: 0x40, 18: 0x4F, 19: 0x50, 20: 0x5A,
}
_NAMED_KEYS = {"SPACE": 0x31, "RETURN": 0x24, "ENTER": 0x24, "TAB": 0x30, "ESCAPE": 0x35, "ESC": 0x35,
               "HOME": 0x73, "END": 0x77}

K_EVENT_CLASS_KEYBOARD = int.from_bytes(b"keyb", "big")  # kEventClassKeyboard
K_EVENT_HOT_KEY_PRESSED = 5
EVENT_HOT_KEY_EXISTS_ERR = -9878  # eventHotKeyExistsErr: another app registered it
_SIGNATURE = int.from_bytes(b"RpAp", "big")  # our OSType, tells our hot keys from others'
_HOTKEY_ID = 1
_CARBON = "/System/Library/Frameworks/Carbon.framework/Carbon"


def carbon_key_code(key: str) -> int:
    """Our key name -> the Carbon virtual key code; HotkeyError for keys a Mac keyboard does not have."""
    upper = key.upper()
    if upper in _ANSI_KEYS:
        return _ANSI_KEYS[upper]
    if upper.startswith("F") and upper[1:].isdigit() and int(upper[1:]) in _FUNCTION_KEYS:
        return _FUNCTION_KEYS[int(upper[1:])]
    if upper in _NAMED_KEYS:
        return _NAMED_KEYS[upper]
    if upper == "PRINT":
        raise HotkeyError("a Mac keyboard has no Print key; use F13 (where Print Screen is on Apple's extended "
                          "keyboards) or a letter with modifiers")
    raise HotkeyError(f"the key {key!r} is not supported for a global shortcut on macOS")


def carbon_modifiers(shortcut: Shortcut) -> int:
    """Ctrl is Control, Alt is Option, Super (or Cmd) is Command: the names on the keys, not Qt's swap."""
    bits = 0
    for name in shortcut.modifiers:
        bits |= _MODIFIER_BITS[name]
    return bits


class _EventTypeSpec(ctypes.Structure):
    _fields_ = [("eventClass", ctypes.c_uint32), ("eventKind", ctypes.c_uint32)]


class _EventHotKeyID(ctypes.Structure):
    _fields_ = [("signature", ctypes.c_uint32), ("id", ctypes.c_uint32)]


# OSStatus (*EventHandlerProcPtr)(EventHandlerCallRef, EventRef, void *userData)
_HANDLER = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)


def _load_carbon() -> Any:
    carbon = ctypes.cdll.LoadLibrary(_CARBON)
    carbon.GetApplicationEventTarget.restype = ctypes.c_void_p
    carbon.GetApplicationEventTarget.argtypes = []
    carbon.InstallEventHandler.restype = ctypes.c_int32
    carbon.InstallEventHandler.argtypes = [ctypes.c_void_p, _HANDLER, ctypes.c_ulong,
                                           ctypes.POINTER(_EventTypeSpec), ctypes.c_void_p,
                                           ctypes.POINTER(ctypes.c_void_p)]
    carbon.RemoveEventHandler.restype = ctypes.c_int32
    carbon.RemoveEventHandler.argtypes = [ctypes.c_void_p]
    carbon.RegisterEventHotKey.restype = ctypes.c_int32
    carbon.RegisterEventHotKey.argtypes = [ctypes.c_uint32, ctypes.c_uint32, _EventHotKeyID, ctypes.c_void_p,
                                           ctypes.c_uint32, ctypes.POINTER(ctypes.c_void_p)]
    carbon.UnregisterEventHotKey.restype = ctypes.c_int32
    carbon.UnregisterEventHotKey.argtypes = [ctypes.c_void_p]
    carbon.GetEventParameter.restype = ctypes.c_int32
    carbon.GetEventParameter.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_void_p,
                                         ctypes.c_ulong, ctypes.c_void_p, ctypes.c_void_p]
    return carbon


class MacHotkey(GlobalHotkey):
    _pressed = Signal()  # emitted inside Carbon's callback, delivered on a later loop turn

    def __init__(self, shortcut: Shortcut, parent: QObject | None = None) -> None:
        super().__init__(shortcut, parent)
        code, modifiers = carbon_key_code(shortcut.key), carbon_modifiers(shortcut)
        self._carbon = _load_carbon()
        self._pressed.connect(self.activated, Qt.ConnectionType.QueuedConnection)
        # Kept on self: ctypes callbacks are freed with their Python object, and Carbon would call freed memory.
        self._handler = _HANDLER(self._on_event)
        spec = _EventTypeSpec(K_EVENT_CLASS_KEYBOARD, K_EVENT_HOT_KEY_PRESSED)
        self._handler_ref = ctypes.c_void_p()
        target = self._carbon.GetApplicationEventTarget()
        status = self._carbon.InstallEventHandler(target, self._handler, 1, ctypes.byref(spec), None,
                                                  ctypes.byref(self._handler_ref))
        if status != 0:
            raise HotkeyError(f"macOS refused the shortcut's event handler (OSStatus {status})")
        self._hotkey_ref = ctypes.c_void_p()
        status = self._carbon.RegisterEventHotKey(code, modifiers, _EventHotKeyID(_SIGNATURE, _HOTKEY_ID), target, 0,
                                                  ctypes.byref(self._hotkey_ref))
        if status != 0:
            self._carbon.RemoveEventHandler(self._handler_ref)
            self._handler_ref = ctypes.c_void_p()
            if status == EVENT_HOT_KEY_EXISTS_ERR:
                raise HotkeyError(taken_message(shortcut))
            raise HotkeyError(f"macOS refused the shortcut {shortcut} (OSStatus {status})")
        log.info("global shortcut %s registered (key code 0x%02x, modifiers 0x%04x)", shortcut, code, modifiers)

    def _on_event(self, _call_ref: Any, event: Any, _user_data: Any) -> int:
        hotkey = _EventHotKeyID()
        # kEventParamDirectObject '----', typeEventHotKeyID 'hkid': which hot key (ours, or another library's).
        status = self._carbon.GetEventParameter(event, int.from_bytes(b"----", "big"), int.from_bytes(b"hkid", "big"),
                                                None, ctypes.sizeof(hotkey), None, ctypes.byref(hotkey))
        if status == 0 and hotkey.signature == _SIGNATURE and hotkey.id == _HOTKEY_ID:
            self._pressed.emit()
            return 0
        return -9874  # eventNotHandledErr: let other handlers see it

    def close(self) -> None:
        if self._hotkey_ref:
            self._carbon.UnregisterEventHotKey(self._hotkey_ref)
            self._hotkey_ref = ctypes.c_void_p()
        if self._handler_ref:
            self._carbon.RemoveEventHandler(self._handler_ref)
            self._handler_ref = ctypes.c_void_p()
