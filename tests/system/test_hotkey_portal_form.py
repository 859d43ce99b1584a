"""The real program in a "Wayland" session: its hotkey goes through the GlobalShortcuts portal (the mock, on a
private D-Bus bus), while Qt itself still draws on Xvfb (xcb). The desktop's Activated signal opens the form.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.display import XServer
from tests.support.mock_portal_shortcuts import MockShortcutsPortal, shortcuts_bus  # noqa: F401  (fixture)
from tests.system.support_ui import RunningApp, save_screenshot, start_app, wait_window


@pytest.fixture
def wayland_app(openbox: XServer, reporter_home: Path, shortcuts_bus: str,  # noqa: F811
                request: pytest.FixtureRequest) -> Iterator[tuple[RunningApp, MockShortcutsPortal]]:
    behaviour = getattr(request, "param", {})
    portal = MockShortcutsPortal(shortcuts_bus, **behaviour).start()
    (reporter_home / "config.toml").write_text('[reporter]\nname = "Ada Tester"\nrole = "qa"\n', encoding="utf-8")
    running = start_app(openbox, reporter_home, extra_env={"XDG_SESSION_TYPE": "wayland",
                                                           "DBUS_SESSION_BUS_ADDRESS": shortcuts_bus})
    try:
        running.wait_trace("ready")
        yield running, portal
    finally:
        running.stop()
        portal.stop()


def test_the_portal_activation_opens_the_form(wayland_app: tuple[RunningApp, MockShortcutsPortal],
                                              openbox: XServer) -> None:
    app, portal = wayland_app
    bind = portal.wait_for("GlobalShortcuts.BindShortcuts", timeout=15)
    assert bind.args[1] == [("report", {"description": "Report a problem", "preferred_trigger": "CTRL+ALT+b"})]
    pressed = portal.bound_session(timeout=15)
    portal.activate(session=pressed)
    app.wait_trace("hotkey")
    app.wait_trace("form-exposed")
    wait_window(openbox, "^Report a problem$")
    save_screenshot(openbox, "wayland-portal-form.png")
    assert portal.errors == []


@pytest.mark.parametrize("wayland_app", [{"bind_response": 1}], indirect=True)
def test_a_cancelled_portal_dialog_tells_the_user(wayland_app: tuple[RunningApp, MockShortcutsPortal]) -> None:
    app, portal = wayland_app
    # The app shows "Shortcut not available" with what to do instead; the answer may come before `ready`.
    if not app.details("hotkey-failed"):
        app.wait_trace("hotkey-failed")
    portal.wait_for("Session.Close", timeout=5)
    assert portal.errors == []
