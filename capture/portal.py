"""Screenshot through the XDG desktop portal (Wayland), over D-Bus with jeepney.

jeepney (pure Python, already installed with keyring's SecretStorage) is used rather than
QtDBus: capture must not need Qt, and it works the same from any thread.

Protocol: ``org.freedesktop.portal.Screenshot.Screenshot(parent_window, {handle_token,
interactive})`` returns a Request object path; the result arrives as the signal
``org.freedesktop.portal.Request.Response(u response, a{sv} results)`` on that path, with
``results["uri"]`` a ``file://`` URI of a PNG.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from capture.screenshot import Screenshot, ScreenshotUnavailable, png_size

PORTAL_BUS = "org.freedesktop.portal.Desktop"
PORTAL_PATH = "/org/freedesktop/portal/desktop"
SCREENSHOT_IFACE = "org.freedesktop.portal.Screenshot"
REQUEST_IFACE = "org.freedesktop.portal.Request"
_RESPONSES = {1: "the user cancelled the screenshot", 2: "the portal refused the screenshot"}


def screenshot(mode: str = "all-monitors", timeout: float = 10.0, *, remove_file: bool = True) -> Screenshot:
    """Ask the portal for a non-interactive screenshot. The portal always captures every monitor."""
    try:
        from jeepney import DBusAddress, MatchRule, message_bus, new_method_call
        from jeepney.io.blocking import Proxy, open_dbus_connection
    except ImportError as exc:  # pragma: no cover - jeepney ships with keyring on Linux
        raise ScreenshotUnavailable("Wayland screenshot needs jeepney (pip install jeepney)") from exc

    try:
        conn = open_dbus_connection(bus="SESSION")
    except Exception as exc:
        raise ScreenshotUnavailable(f"Wayland without a D-Bus session bus: {exc}") from exc
    with conn:
        token = "reporter_" + secrets.token_hex(8)
        sender = (conn.unique_name or ":").lstrip(":").replace(".", "_")
        # Subscribe *before* calling: the portal may answer before the call returns.
        request_path = f"{PORTAL_PATH}/request/{sender}/{token}"
        rule = MatchRule(type="signal", interface=REQUEST_IFACE, member="Response", path=request_path)
        Proxy(message_bus, conn).AddMatch(rule)
        portal = DBusAddress(PORTAL_PATH, bus_name=PORTAL_BUS, interface=SCREENSHOT_IFACE)
        options: dict[str, tuple[str, Any]] = {"handle_token": ("s", token), "interactive": ("b", False)}
        with conn.filter(rule) as queue:
            try:
                reply = conn.send_and_get_reply(new_method_call(portal, "Screenshot", "sa{sv}", ("", options)),
                                                timeout=timeout)
            except Exception as exc:
                raise ScreenshotUnavailable(f"no screenshot portal: {exc}") from exc
            if reply.header.message_type.name == "error":
                raise ScreenshotUnavailable(f"screenshot portal error: {reply.body[0] if reply.body else ''}")
            try:
                signal = conn.recv_until_filtered(queue, timeout=timeout)
            except TimeoutError as exc:
                raise ScreenshotUnavailable("screenshot portal did not answer") from exc
    response, results = signal.body
    if response != 0:
        raise ScreenshotUnavailable(_RESPONSES.get(response, f"screenshot portal response {response}"))
    uri = results.get("uri", ("s", ""))[1]
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        raise ScreenshotUnavailable(f"screenshot portal gave an unexpected uri: {uri!r}")
    path = Path(unquote(parsed.path))
    data = path.read_bytes()
    if remove_file:
        # The portal saves into the user's Pictures folder; the report keeps its own copy.
        path.unlink(missing_ok=True)
    width, height = png_size(data)
    return Screenshot(width=width, height=height, raw=b"", left=0, top=0, monitor_index=0, scale=1.0,
                      mode=mode, png=data)
