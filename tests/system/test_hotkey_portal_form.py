"""The real program in a "Wayland" session: its hotkey goes through the GlobalShortcuts portal (the mock, on a
private D-Bus bus), while Qt itself still draws on Xvfb (xcb). The desktop's Activated signal opens the form.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.capture.mock_portal import tiny_png
from tests.support.display import XServer
from tests.support.mock_portal_shortcuts import MockShortcutsPortal, shortcuts_bus  # noqa: F401  (fixture)
from tests.system.support_ui import RunningApp, save_screenshot, start_app, wait_file, wait_window, xdotool

PORTAL_SHOT_SIZE = (64, 48)


@pytest.fixture
def wayland_app(openbox: XServer, reporter_home: Path, shortcuts_bus: str, tmp_path: Path,  # noqa: F811
                request: pytest.FixtureRequest) -> Iterator[tuple[RunningApp, MockShortcutsPortal]]:
    behaviour = dict(getattr(request, "param", {}))
    extra_env = behaviour.pop("env", {})
    if "screenshot_delay" in behaviour:  # the mock answers Screenshot too, with the portal's PNG
        behaviour.update(screenshot_png=tiny_png(*PORTAL_SHOT_SIZE), screenshot_dir=tmp_path)
    portal = MockShortcutsPortal(shortcuts_bus, **behaviour).start()
    (reporter_home / "config.toml").write_text('[reporter]\nname = "Ada Tester"\nrole = "qa"\n', encoding="utf-8")
    running = start_app(openbox, reporter_home, extra_env={"XDG_SESSION_TYPE": "wayland",
                                                           "DBUS_SESSION_BUS_ADDRESS": shortcuts_bus, **extra_env})
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


@pytest.mark.parametrize("wayland_app", [{"screenshot_delay": 1.5, "env": {"REPORTER_APP_STALL_METER": "1"}}],
                         indirect=True)
def test_the_portal_screenshot_is_awaited_off_the_gui_thread_before_the_form_shows(
        wayland_app: tuple[RunningApp, MockShortcutsPortal], openbox: XServer, reporter_home: Path) -> None:
    from PySide6.QtGui import QImage

    app, portal = wayland_app
    portal.activate(session=portal.bound_session(timeout=15))
    pressed = app.wait_trace("hotkey")
    exposed = app.wait_trace("form-exposed")
    # The form waited for the desktop's screenshot (taken before any window of ours maps)...
    assert exposed - pressed >= 1.4, f"the form showed {exposed - pressed:.2f} s after the press, before the portal answered"
    assert portal.methods().count("Screenshot.Screenshot") == 1
    # ...and the event loop kept running meanwhile: the stall meter's worst lateness before the form showed.
    stalls = [float(line.split()[1]) for line in app.output if line.startswith("stall ")]
    assert stalls, "the stall meter printed nothing during the 1.5 s wait"
    assert max(stalls) < 250, f"the GUI thread stalled {max(stalls):.0f} ms while the portal was asked"

    form = wait_window(openbox, "^Report a problem$")
    xdotool(openbox, "windowactivate", "--sync", form)
    xdotool(openbox, "type", "--delay", "2", "Checkout button does nothing")
    xdotool(openbox, "key", "--delay", "0", "alt+3", "ctrl+Return")
    ticket_dir = reporter_home / "data" / "local-tracker" / "LOCAL-1"
    ticket = wait_file(ticket_dir / "ticket.json").read_text(encoding="utf-8")
    shots = sorted(ticket_dir.rglob("screenshot*.png"))
    assert shots, f"no screenshot attached: {ticket}"
    image = QImage(str(shots[0]))
    assert (image.width(), image.height()) == PORTAL_SHOT_SIZE  # the portal's picture, not an X grab
    assert portal.errors == []
