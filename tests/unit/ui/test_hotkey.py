from __future__ import annotations

import pytest

from ui.hotkey import HotkeyError, Shortcut, parse_shortcut, taken_message


@pytest.mark.parametrize(
    ("text", "modifiers", "key"),
    [
        ("Ctrl+Alt+B", {"ctrl", "alt"}, "B"),
        ("ctrl+alt+b", {"ctrl", "alt"}, "B"),
        ("Control + Shift + F12", {"ctrl", "shift"}, "F12"),
        ("Super+Print", {"super"}, "Print"),
        ("Meta+Alt+x", {"super", "alt"}, "X"),
        ("F9", set(), "F9"),
    ],
)
def test_parse_shortcut(text: str, modifiers: set[str], key: str) -> None:
    assert parse_shortcut(text) == Shortcut(frozenset(modifiers), key)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", r"write it like Ctrl\+Alt\+B"),
        ("Ctrl++B", "write it like"),
        ("Hyper+B", "unknown modifier 'Hyper'"),
        ("Ctrl+Alt", "no key"),
        ("B", "needs a modifier"),
    ],
)
def test_parse_shortcut_says_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(HotkeyError, match=message):
        parse_shortcut(text)


def test_shortcut_prints_in_a_stable_order() -> None:
    assert str(parse_shortcut("alt+ctrl+b")) == "Ctrl+Alt+B"


def test_taken_message_offers_alternatives_and_the_tray() -> None:
    message = taken_message(parse_shortcut("Ctrl+Alt+B"))
    assert "already used by another program" in message
    assert "Ctrl+Shift+F12" in message and "tray menu" in message
