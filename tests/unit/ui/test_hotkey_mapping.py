"""The pure parts of each platform's hotkey: which mechanism a session gets, and our Shortcut in each platform's
terms (XDG shortcuts-spec trigger, Windows virtual keys and MOD_* flags, Carbon key codes and modifier bits).

Windows and macOS can't run here; these mappings are what can be checked on Linux.
"""

from __future__ import annotations

import pytest

from ui.hotkey import HotkeyError, parse_shortcut, session_kind
from ui.hotkey_macos import CMD_KEY, CONTROL_KEY, OPTION_KEY, SHIFT_KEY, carbon_key_code, carbon_modifiers
from ui.hotkey_portal import object_path, portal_trigger
from ui.hotkey_windows import MOD_ALT, MOD_CONTROL, MOD_NOREPEAT, MOD_SHIFT, MOD_WIN, virtual_key, windows_modifiers


@pytest.mark.parametrize(
    ("platform", "environ", "kind"),
    [
        ("win32", {"DISPLAY": ":0"}, "windows"),
        ("darwin", {}, "macos"),
        ("linux", {"XDG_SESSION_TYPE": "wayland", "DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}, "wayland"),
        ("linux", {"WAYLAND_DISPLAY": "wayland-0"}, "wayland"),
        ("linux", {"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}, "x11"),  # XWayland without a session type
        ("linux", {"XDG_SESSION_TYPE": "x11", "DISPLAY": ":1"}, "x11"),
        ("linux", {}, "none"),
    ],
)
def test_session_kind(platform: str, environ: dict[str, str], kind: str) -> None:
    assert session_kind(platform, environ) == kind


@pytest.mark.parametrize(
    ("text", "trigger"),
    [
        ("Ctrl+Alt+B", "CTRL+ALT+b"),  # the spec's keysym for the B key is "b"; "B" would mean Shift+b
        ("Alt+Ctrl+b", "CTRL+ALT+b"),
        ("Super+Shift+F12", "SHIFT+LOGO+F12"),
        ("Ctrl+Shift+1", "CTRL+SHIFT+1"),
        ("Super+Print", "LOGO+Print"),
        ("Ctrl+space", "CTRL+space"),
        ("Ctrl+Alt+Enter", "CTRL+ALT+Return"),
        ("Ctrl+Alt+Page_Up", "CTRL+ALT+Page_Up"),
        ("F9", "F9"),
    ],
)
def test_portal_trigger_follows_the_shortcuts_spec(text: str, trigger: str) -> None:
    assert portal_trigger(parse_shortcut(text)) == trigger


def test_portal_trigger_refuses_a_key_the_spec_cannot_name() -> None:
    with pytest.raises(HotkeyError, match=r"'\[' in Ctrl\+\[ cannot be given to the desktop"):
        portal_trigger(parse_shortcut("Ctrl+["))


def test_portal_object_paths_come_from_the_unique_name_and_token() -> None:
    assert object_path("request", ":1.42", "tok_1") == "/org/freedesktop/portal/desktop/request/1_42/tok_1"
    assert object_path("session", ":1.7", "s") == "/org/freedesktop/portal/desktop/session/1_7/s"


@pytest.mark.parametrize(
    ("key", "code"),
    [("B", 0x42), ("b", 0x42), ("7", 0x37), ("F1", 0x70), ("F12", 0x7B), ("F24", 0x87), ("Print", 0x2C),
     ("Space", 0x20), ("Pause", 0x13)],
)
def test_windows_virtual_key(key: str, code: int) -> None:
    assert virtual_key(key) == code


@pytest.mark.parametrize("key", ["F25", "F0", "Enter?", "Ä"])
def test_windows_virtual_key_refuses_unknown_keys(key: str) -> None:
    with pytest.raises(HotkeyError, match="not supported for a global shortcut on Windows"):
        virtual_key(key)


def test_windows_modifiers() -> None:
    assert windows_modifiers(parse_shortcut("Ctrl+Alt+B")) == MOD_CONTROL | MOD_ALT | MOD_NOREPEAT
    assert windows_modifiers(parse_shortcut("Super+Shift+B")) == MOD_WIN | MOD_SHIFT | MOD_NOREPEAT
    assert windows_modifiers(parse_shortcut("F9")) == MOD_NOREPEAT
    assert (MOD_ALT, MOD_CONTROL, MOD_SHIFT, MOD_WIN, MOD_NOREPEAT) == (0x1, 0x2, 0x4, 0x8, 0x4000)  # WinUser.h


@pytest.mark.parametrize(
    ("key", "code"),
    # HIToolbox/Events.h kVK_ANSI_* / kVK_F*: positions, not letters, hence the odd order.
    [("A", 0x00), ("B", 0x0B), ("b", 0x0B), ("Q", 0x0C), ("M", 0x2E), ("0", 0x1D), ("5", 0x17),
     ("F1", 0x7A), ("F12", 0x6F), ("F13", 0x69), ("F20", 0x5A), ("Space", 0x31), ("Return", 0x24)],
)
def test_carbon_key_code(key: str, code: int) -> None:
    assert carbon_key_code(key) == code


def test_carbon_key_codes_cover_every_letter_and_digit_once() -> None:
    codes = [carbon_key_code(c) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"]
    assert len(set(codes)) == 36


def test_carbon_has_no_print_key() -> None:
    with pytest.raises(HotkeyError, match="no Print key; use F13"):
        carbon_key_code("Print")
    with pytest.raises(HotkeyError, match="not supported for a global shortcut on macOS"):
        carbon_key_code("F21")


def test_carbon_modifiers_use_the_names_on_the_keys() -> None:
    assert carbon_modifiers(parse_shortcut("Ctrl+Alt+B")) == CONTROL_KEY | OPTION_KEY
    assert carbon_modifiers(parse_shortcut("Cmd+Shift+B")) == CMD_KEY | SHIFT_KEY
    assert (CMD_KEY, SHIFT_KEY, OPTION_KEY, CONTROL_KEY) == (0x100, 0x200, 0x800, 0x1000)  # Events.h
