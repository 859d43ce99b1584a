"""The Wayland hotkey (ui/hotkey_portal.py) against the mock GlobalShortcuts portal on a private D-Bus bus.

Real jeepney connections, a real dbus-daemon, the real Qt event loop (offscreen): the portal's answers cross from
the hotkey's thread to the GUI thread as queued signals, which is what these tests watch.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from tests.support.mock_portal_shortcuts import (  # noqa: F401  (fixtures)
    PORTAL_PATH,
    SHORTCUTS,
    MockShortcutsPortal,
    shortcuts_bus,
    shortcuts_portal,
)
from ui.hotkey import GlobalHotkey, HotkeyError, HotkeyUnavailable, bind_global_hotkey, parse_shortcut
from ui.hotkey_portal import PortalHotkey

HINT = "bind `reporter-app report --gui` in your desktop's keyboard settings"
MakeHotkey = Callable[..., PortalHotkey]


@pytest.fixture
def make_hotkey(shortcuts_bus: str) -> Iterator[MakeHotkey]:
    """PortalHotkey on the private bus; every one made is closed after the test (and its thread must be gone)."""
    made: list[PortalHotkey] = []

    def make(text: str = "Ctrl+Alt+B") -> PortalHotkey:
        hotkey = PortalHotkey(parse_shortcut(text), bus=shortcuts_bus)
        made.append(hotkey)
        return hotkey

    yield make
    for hotkey in made:
        hotkey.close()
        assert not hotkey._thread.is_alive(), "close() must not leave the portal thread behind"


def sender_part(portal: MockShortcutsPortal) -> str:
    return portal.wait_for("GlobalShortcuts.CreateSession").sender.lstrip(":").replace(".", "_")


def test_binds_through_the_portal_and_a_press_arrives_on_the_gui_thread(
        qtbot: QtBot, shortcuts_portal: MockShortcutsPortal, make_hotkey: MakeHotkey) -> None:
    started = time.perf_counter()
    hotkey = make_hotkey()
    assert time.perf_counter() - started < 0.1, "binding must not wait for the portal on the GUI thread"
    assert hotkey.confirmed is False
    with qtbot.waitSignal(hotkey.bound, timeout=5000) as bound:
        pass
    assert bound.args == ["CTRL+ALT+b"] and hotkey.confirmed and hotkey.trigger_description == "CTRL+ALT+b"

    # What the portal was asked, in order, as the spec says.
    assert shortcuts_portal.methods() == ["Registry.Register", "Properties.Get", "GlobalShortcuts.CreateSession",
                                          "GlobalShortcuts.BindShortcuts"]
    assert shortcuts_portal.wait_for("Registry.Register").args == ("reporter-app", {})
    (options,) = shortcuts_portal.wait_for("GlobalShortcuts.CreateSession").args
    assert set(options) == {"handle_token", "session_handle_token"}
    session = f"{PORTAL_PATH}/session/{sender_part(shortcuts_portal)}/{options['session_handle_token']}"
    assert hotkey.session_handle == session
    bind = shortcuts_portal.wait_for("GlobalShortcuts.BindShortcuts")
    assert bind.args[:3] == (session, [("report", {"description": "Report a problem",
                                                   "preferred_trigger": "CTRL+ALT+b"})], "")
    assert set(bind.args[3]) == {"handle_token"} and bind.args[3]["handle_token"] != options["handle_token"]

    threads: list[bool] = []
    # Direct: the slot runs in whichever thread emits, so this sees where `activated` is emitted (a plain
    # connection would be queued to the main thread by PySide whatever the emitter did).
    hotkey.activated.connect(lambda: threads.append(threading.current_thread() is threading.main_thread()),
                             Qt.ConnectionType.DirectConnection)
    for _ in range(3):
        with qtbot.waitSignal(hotkey.activated, timeout=1000):
            shortcuts_portal.activate()
    assert threads == [True, True, True]

    hotkey.close()
    close = shortcuts_portal.wait_for("Session.Close", timeout=2)
    assert close.path == session
    assert not hotkey._thread.is_alive()
    assert shortcuts_portal.errors == []


def test_activated_for_another_session_or_shortcut_is_ignored(
        qtbot: QtBot, shortcuts_portal: MockShortcutsPortal, make_hotkey: MakeHotkey) -> None:
    hotkey = make_hotkey()
    qtbot.waitSignal(hotkey.bound, timeout=5000).wait()
    owner = shortcuts_portal.bound_session().owner
    other_session = hotkey.session_handle + "_other"
    with qtbot.assertNotEmitted(hotkey.activated, wait=300):
        shortcuts_portal._signal(owner, PORTAL_PATH, SHORTCUTS, "Activated", "osta{sv}",
                                 (other_session, "report", 1, {}))
        shortcuts_portal._signal(owner, PORTAL_PATH, SHORTCUTS, "Activated", "osta{sv}",
                                 (hotkey.session_handle, "something-else", 2, {}))
    with qtbot.waitSignal(hotkey.activated, timeout=1000):
        shortcuts_portal.activate()


def test_the_user_may_change_the_keys_in_the_desktop(
        qtbot: QtBot, shortcuts_bus: str, make_hotkey: MakeHotkey) -> None:
    portal = MockShortcutsPortal(shortcuts_bus, trigger_description="Super+F9").start()
    try:
        hotkey = make_hotkey()
        with qtbot.waitSignal(hotkey.bound, timeout=5000) as bound:
            pass
        assert bound.args == ["Super+F9"]
        with qtbot.waitSignal(hotkey.activated, timeout=1000):  # the id is what counts, not the keys
            portal.activate()
    finally:
        portal.stop()


@pytest.mark.parametrize("portal_kind", ["no GlobalShortcuts interface", "no portal at all"])
def test_a_desktop_without_the_portal_says_how_to_bind_it_yourself(
        qtbot: QtBot, shortcuts_bus: str, make_hotkey: MakeHotkey, portal_kind: str) -> None:
    portal = MockShortcutsPortal(shortcuts_bus, interface=False).start() if portal_kind.startswith("no Global") \
        else None
    try:
        hotkey = make_hotkey()
        with qtbot.waitSignal(hotkey.failed, timeout=5000) as failed:
            pass
        (error,) = failed.args
        assert isinstance(error, HotkeyUnavailable)
        assert "no GlobalShortcuts portal" in str(error) and "GNOME 48+" in str(error) and HINT in str(error)
        assert not hotkey.confirmed
        if portal is not None:
            assert "GlobalShortcuts.CreateSession" not in portal.methods() and portal.errors == []
    finally:
        if portal is not None:
            portal.stop()


def test_an_older_portal_without_the_registry_still_binds(
        qtbot: QtBot, shortcuts_bus: str, make_hotkey: MakeHotkey) -> None:
    portal = MockShortcutsPortal(shortcuts_bus, registry=False).start()
    try:
        hotkey = make_hotkey()
        qtbot.waitSignal(hotkey.bound, timeout=5000).wait()
        assert portal.methods()[0] == "Properties.Get" and portal.errors == []
    finally:
        portal.stop()


@pytest.mark.parametrize(
    ("behaviour", "message"),
    [
        ({"bind_response": 1}, "not confirmed in the desktop's dialog (cancelled)"),
        ({"bind_response": 2}, "the desktop refused the shortcut (response 2)"),
        ({"keep_shortcuts": False}, "did not bind the shortcut (it was left out in its dialog)"),
    ],
)
def test_a_refused_bind_is_a_clear_message_and_the_session_is_closed(
        qtbot: QtBot, shortcuts_bus: str, make_hotkey: MakeHotkey, behaviour: dict[str, object], message: str) -> None:
    portal = MockShortcutsPortal(shortcuts_bus, **behaviour).start()  # type: ignore[arg-type]
    try:
        hotkey = make_hotkey()
        with qtbot.waitSignal(hotkey.failed, timeout=5000) as failed:
            pass
        (error,) = failed.args
        assert type(error) is HotkeyError  # not "unavailable": the desktop can, the user said no
        assert message in str(error) and HINT in str(error)
        portal.wait_for("Session.Close", timeout=2)
        assert portal.errors == []
    finally:
        portal.stop()


def test_quitting_while_the_desktop_dialog_is_open(
        qtbot: QtBot, shortcuts_bus: str, make_hotkey: MakeHotkey) -> None:
    portal = MockShortcutsPortal(shortcuts_bus, bind_delay=30).start()  # the user leaves the dialog open
    try:
        hotkey = make_hotkey()
        portal.wait_for("GlobalShortcuts.BindShortcuts")
        qtbot.wait(50)  # the GUI thread keeps running meanwhile (qtbot.wait spins the event loop)
        started = time.perf_counter()
        with qtbot.assertNotEmitted(hotkey.bound), qtbot.assertNotEmitted(hotkey.failed):
            hotkey.close()
            qtbot.wait(100)
        assert time.perf_counter() - started < 1.5
        assert not hotkey._thread.is_alive()
        assert portal.wait_for("Session.Close", timeout=2).path == hotkey.session_handle
        assert not portal.sessions, "Session.Close must end the session (and its dialog)"
    finally:
        portal.stop()


def test_the_desktop_ending_the_session_is_reported(
        qtbot: QtBot, shortcuts_portal: MockShortcutsPortal, make_hotkey: MakeHotkey) -> None:
    hotkey = make_hotkey()
    qtbot.waitSignal(hotkey.bound, timeout=5000).wait()
    with qtbot.waitSignal(hotkey.failed, timeout=2000) as failed:
        shortcuts_portal.close_session_from_desktop(shortcuts_portal.bound_session())
    assert isinstance(failed.args[0], HotkeyUnavailable) and "ended the shortcut session" in str(failed.args[0])
    hotkey.close()
    assert "Session.Close" not in shortcuts_portal.methods()  # it is gone already


def test_bind_global_hotkey_uses_the_portal_in_a_wayland_session(
        qtbot: QtBot, shortcuts_portal: MockShortcutsPortal, shortcuts_bus: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_SESSION_TYPE", "wayland")
    monkeypatch.setenv("DISPLAY", ":99")  # XWayland is there too: key grabs would only see its clients
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", shortcuts_bus)
    hotkey: GlobalHotkey = bind_global_hotkey("Ctrl+Shift+F12")
    try:
        assert isinstance(hotkey, PortalHotkey)
        with qtbot.waitSignal(hotkey.bound, timeout=5000) as bound:
            pass
        assert bound.args == ["CTRL+SHIFT+F12"]
    finally:
        hotkey.close()


def test_a_key_the_portal_cannot_name_fails_at_once(shortcuts_bus: str) -> None:
    with pytest.raises(HotkeyError, match="cannot be given to the desktop's shortcut portal"):
        PortalHotkey(parse_shortcut("Ctrl+Alt+["), bus=shortcuts_bus)
