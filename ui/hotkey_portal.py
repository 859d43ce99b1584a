"""Wayland global hotkey: the XDG GlobalShortcuts portal, over D-Bus with jeepney.

jeepney, not QtDBus: PySide6's QtDBus cannot marshal BindShortcuts' ``a(sa{sv})``.

A daemon thread, not a QSocketNotifier on the connection: opening the connection (connect, auth, Hello) and the
first portal call (which may D-Bus-activate xdg-desktop-portal: seconds on a cold session) block, and
BindShortcuts' answer waits for the user's confirmation dialog. The thread keeps that sequential conversation
entirely off the GUI thread; what it learns crosses to the GUI thread as a queued Qt signal. ``close()``
interrupts its receive (jeepney.io.threading's stop pipe), the thread closes the portal session and the
connection, and ``close()`` joins it, so no thread outlives the app.

Protocol (xdg-desktop-portal, data/org.freedesktop.portal.GlobalShortcuts.xml, interface version 1):
  org.freedesktop.host.portal.Registry.Register("reporter-app", {})   portal >= 1.21, unsandboxed apps, first
  Properties.Get(GlobalShortcuts, "version")                          no interface: HotkeyUnavailable
  CreateSession({handle_token, session_handle_token}) -> Request: Response(u, {session_handle: s})
  BindShortcuts(session, [("report", {description, preferred_trigger})], "", {handle_token}) -> Request:
      Response(u, {shortcuts: a(sa{sv})})                              may wait for the user's dialog
  signal Activated(o session_handle, s shortcut_id, t timestamp, a{sv} options)
  org.freedesktop.portal.Session.Close() on close()
A Request is /org/freedesktop/portal/desktop/request/SENDER/TOKEN and a session
/org/freedesktop/portal/desktop/session/SENDER/TOKEN, SENDER being our unique name without ':' and '.' -> '_'.
The shortcut is matched by its id: the user may change its keys in the desktop's settings.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot

from ui.hotkey import GlobalHotkey, HotkeyError, HotkeyUnavailable, Shortcut

log = logging.getLogger(__name__)

PORTAL_BUS = "org.freedesktop.portal.Desktop"
PORTAL_PATH = "/org/freedesktop/portal/desktop"
SHORTCUTS_IFACE = "org.freedesktop.portal.GlobalShortcuts"
REQUEST_IFACE = "org.freedesktop.portal.Request"
SESSION_IFACE = "org.freedesktop.portal.Session"
REGISTRY_IFACE = "org.freedesktop.host.portal.Registry"
PROPERTIES_IFACE = "org.freedesktop.DBus.Properties"
APP_ID = "reporter-app"  # the Registry wants the basename of our .desktop file (resources/reporter-app.desktop)
SHORTCUT_ID = "report"
DESCRIPTION = "Report a problem"
DESKTOP_SETTINGS_HINT = ("bind `reporter-app report --gui` in your desktop's keyboard settings, "
                         "or use the tray menu's \"Report a problem\"")
CALL_TIMEOUT = 30.0  # the first call may start xdg-desktop-portal by D-Bus activation
CLOSE_TIMEOUT = 1.0  # Session.Close at quit: the portal answers in ~1 ms; never hold the quit longer than this
_BACKLOG = 64  # signals kept while waiting for a reply; the portal sends few, more means something is wrong

# XDG shortcuts spec: modifiers CTRL, ALT, SHIFT, NUM, LOGO (xkbcommon's names), then a keysym name, joined by '+'.
_SPEC_MODIFIERS = (("ctrl", "CTRL"), ("alt", "ALT"), ("shift", "SHIFT"), ("super", "LOGO"))
_NAMED_KEYSYMS = {
    "print": "Print", "space": "space", "pause": "Pause", "return": "Return", "enter": "Return", "tab": "Tab",
    "escape": "Escape", "esc": "Escape", "home": "Home", "end": "End", "insert": "Insert", "delete": "Delete",
    "backspace": "BackSpace", "pageup": "Page_Up", "pagedown": "Page_Down", "scrolllock": "Scroll_Lock",
}
_FUNCTION_KEY = re.compile(r"[Ff]([1-9]|[12][0-9]|3[0-5])")  # xkbcommon has F1..F35
_KEYSYM_NAME = re.compile(r"[A-Za-z0-9_]+")  # "Identifiers only contain alphanumerical values and underscore"
_DBUS_ERRORS_NO_INTERFACE = ("UnknownMethod", "UnknownInterface", "UnknownProperty", "UnknownObject",
                             "InvalidArgs", "ServiceUnknown", "NameHasNoOwner")


def portal_trigger(shortcut: Shortcut) -> str:
    """Our shortcut in the XDG shortcuts spec's syntax: Ctrl+Alt+B -> "CTRL+ALT+b".

    Keys are xkbcommon keysym names of the base layer, so a letter is its lower-case keysym ("b", not "B",
    which would mean Shift+b).
    """
    modifiers = [spec for ours, spec in _SPEC_MODIFIERS if ours in shortcut.modifiers]
    key = shortcut.key
    if len(key) == 1 and key.isascii() and key.isalnum():
        keysym = key.lower()
    elif _FUNCTION_KEY.fullmatch(key):
        keysym = key.upper()
    elif key.lower() in _NAMED_KEYSYMS:
        keysym = _NAMED_KEYSYMS[key.lower()]
    elif _KEYSYM_NAME.fullmatch(key):
        keysym = key  # another keysym name, taken as written (e.g. "XF86Calculator")
    else:
        raise HotkeyError(f"the key {key!r} in {shortcut} cannot be given to the desktop's shortcut portal; "
                          "use a letter, a digit or a key like F12")
    return "+".join([*modifiers, keysym])


def object_path(kind: str, unique_name: str, token: str) -> str:
    """The path the portal gives a request or session: .../desktop/{kind}/SENDER/TOKEN."""
    sender = unique_name.lstrip(":").replace(".", "_")
    return f"{PORTAL_PATH}/{kind}/{sender}/{token}"


def new_token() -> str:
    # Unique and not guessable, with a per-library prefix, as the Request and Session docs ask.
    return "reporter_app_" + secrets.token_hex(8)


class _Stopped(Exception):
    """close() interrupted the worker."""


class _CallFailed(Exception):
    def __init__(self, name: str, text: str) -> None:
        super().__init__(f"{name}: {text}" if text else name)
        self.name = name


class _Conversation:
    """The portal conversation, on the worker thread only: one jeepney connection, read by this thread alone."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.unique_name: str = conn.unique_name
        self.session_handle = ""
        self._backlog: deque[Any] = deque(maxlen=_BACKLOG)

    # -- messages ---------------------------------------------------------------------------------------------
    def _receive(self, deadline: float | None) -> Any:
        from jeepney.io.threading import ReceiveStopped

        timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        try:
            return self.conn.receive(timeout=timeout)
        except ReceiveStopped as exc:
            raise _Stopped from exc

    def _take(self, wanted: Callable[[Any], bool], deadline: float | None) -> Any:
        """The first message (kept from before, or new) that `wanted` accepts; others are kept for later."""
        for msg in list(self._backlog):
            if wanted(msg):
                self._backlog.remove(msg)
                return msg
        while True:
            msg = self._receive(deadline)
            if wanted(msg):
                return msg
            self._backlog.append(msg)

    def call(self, path: str, interface: str, method: str, signature: str | None, body: tuple[Any, ...],
             timeout: float = CALL_TIMEOUT) -> tuple[Any, ...]:
        """A portal method call and its reply's body (see `send_call`)."""
        from jeepney import DBusAddress, new_method_call

        address = DBusAddress(path, bus_name=PORTAL_BUS, interface=interface)
        return self.send_call(new_method_call(address, method, signature, body), timeout)

    def send_call(self, message: Any, timeout: float = CALL_TIMEOUT) -> tuple[Any, ...]:
        """Send a method call, wait for its reply: its body; a D-Bus error raises _CallFailed, silence
        HotkeyUnavailable."""
        from jeepney import HeaderFields, MessageType

        serial = next(self.conn.outgoing_serial)
        self.conn.send(message, serial=serial)

        def is_reply(msg: Any) -> bool:
            return (msg.header.message_type in (MessageType.method_return, MessageType.error)
                    and msg.header.fields.get(HeaderFields.reply_serial) == serial)

        try:
            reply = self._take(is_reply, time.monotonic() + timeout)
        except TimeoutError as exc:
            method = message.header.fields.get(HeaderFields.member)
            raise HotkeyUnavailable(f"the desktop portal did not answer {method} within {timeout:.0f} s; "
                                    f"{DESKTOP_SETTINGS_HINT}") from exc
        if reply.header.message_type == MessageType.error:
            text = reply.body[0] if reply.body and isinstance(reply.body[0], str) else ""
            raise _CallFailed(str(reply.header.fields.get(HeaderFields.error_name, "error")), text)
        return tuple(reply.body)

    def request(self, method: str, signature: str, body: tuple[Any, ...], token: str,
                timeout: float | None) -> tuple[int, dict[str, Any]]:
        """A portal method that answers through a Request: its Response (code, results). No timeout: wait on."""
        from jeepney import HeaderFields, MessageType

        expected = object_path("request", self.unique_name, token)
        # The Response may come before the reply: accept it on the path we can predict from our token.
        paths = {expected}
        (returned,) = self.call(PORTAL_PATH, SHORTCUTS_IFACE, method, signature, body)
        paths.add(str(returned))  # portals before 0.9 chose their own path

        def is_response(msg: Any) -> bool:
            fields = msg.header.fields
            return (msg.header.message_type == MessageType.signal
                    and fields.get(HeaderFields.interface) == REQUEST_IFACE
                    and fields.get(HeaderFields.member) == "Response"
                    and fields.get(HeaderFields.path) in paths)

        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            signal = self._take(is_response, deadline)
        except TimeoutError as exc:
            raise HotkeyUnavailable(f"the desktop portal did not answer {method}; {DESKTOP_SETTINGS_HINT}") from exc
        code, results = signal.body
        return int(code), dict(results)

    def subscribe(self) -> None:
        """Match rules for the portal's signals. The real portal sends them to us alone (unicast), which needs
        no rule; a rule also catches a portal that broadcasts them."""
        from jeepney import MatchRule
        from jeepney.bus_messages import message_bus

        sender = self.unique_name.lstrip(":").replace(".", "_")
        rules = (
            MatchRule(type="signal", interface=REQUEST_IFACE, member="Response",
                      path_namespace=f"{PORTAL_PATH}/request/{sender}"),
            MatchRule(type="signal", interface=SHORTCUTS_IFACE, path=PORTAL_PATH),
            MatchRule(type="signal", interface=SESSION_IFACE, member="Closed",
                      path_namespace=f"{PORTAL_PATH}/session/{sender}"),
        )
        for rule in rules:
            self.send_call(message_bus.AddMatch(rule))

    # -- the steps ----------------------------------------------------------------------------------------------
    def register(self, app_id: str) -> None:
        """Tell portal >= 1.21 who we are (unsandboxed apps must, before any other portal call)."""
        try:
            self.call(PORTAL_PATH, REGISTRY_IFACE, "Register", "sa{sv}", (app_id, {}))
        except _CallFailed as exc:
            # Older portals have no Registry; others know us from our systemd unit. Binding may still work, and
            # if it does not, CreateSession's error says why.
            log.info("portal Registry.Register(%r) not accepted: %s", app_id, exc)

    def require_interface(self) -> int:
        try:
            (version,) = self.call(PORTAL_PATH, PROPERTIES_IFACE, "Get", "ss", (SHORTCUTS_IFACE, "version"))
        except _CallFailed as exc:
            if exc.name.rsplit(".", 1)[-1] in _DBUS_ERRORS_NO_INTERFACE:
                raise HotkeyUnavailable(
                    "this desktop offers apps no global shortcuts (no GlobalShortcuts portal: it needs "
                    "xdg-desktop-portal 1.16 or newer with KDE Plasma 5.27+, GNOME 48+ or Hyprland); "
                    f"{DESKTOP_SETTINGS_HINT}") from exc
            raise HotkeyUnavailable(f"the desktop's shortcut portal failed ({exc}); {DESKTOP_SETTINGS_HINT}") from exc
        return int(version[1]) if isinstance(version, tuple) else int(version)

    def create_session(self) -> str:
        token, session_token = new_token(), new_token()
        options = {"handle_token": ("s", token), "session_handle_token": ("s", session_token)}
        try:
            code, results = self.request("CreateSession", "a{sv}", (options,), token, CALL_TIMEOUT)
        except _CallFailed as exc:
            raise HotkeyUnavailable(f"the desktop refused a shortcut session ({exc}); {DESKTOP_SETTINGS_HINT}") \
                from exc
        if code != 0:
            raise HotkeyUnavailable(f"the desktop refused a shortcut session (response {code}); "
                                    f"{DESKTOP_SETTINGS_HINT}")
        # "session_handle" is an object path the spec sends as a string (kept so for compatibility).
        handle = results.get("session_handle", ("s", ""))[1]
        self.session_handle = str(handle) or object_path("session", self.unique_name, session_token)
        return self.session_handle

    def bind(self, trigger: str, description: str) -> str:
        """Bind our one shortcut; the trigger description the desktop shows. Waits for the user's dialog."""
        token = new_token()
        shortcut = (SHORTCUT_ID, {"description": ("s", description), "preferred_trigger": ("s", trigger)})
        try:
            code, results = self.request("BindShortcuts", "oa(sa{sv})sa{sv}",
                                         (self.session_handle, [shortcut], "", {"handle_token": ("s", token)}),
                                         token, None)
        except _CallFailed as exc:
            raise HotkeyError(f"the desktop refused the shortcut ({exc}); {DESKTOP_SETTINGS_HINT}") from exc
        if code == 1:
            raise HotkeyError("the shortcut was not confirmed in the desktop's dialog (cancelled); start Reporter "
                              f"again to be asked again, or {DESKTOP_SETTINGS_HINT}")
        if code != 0:
            raise HotkeyError(f"the desktop refused the shortcut (response {code}); {DESKTOP_SETTINGS_HINT}")
        bound = describe_shortcuts(results.get("shortcuts", ("a(sa{sv})", []))[1])
        if SHORTCUT_ID not in bound:
            raise HotkeyError(f"the desktop did not bind the shortcut (it was left out in its dialog); "
                              f"{DESKTOP_SETTINGS_HINT}")
        return bound[SHORTCUT_ID]

    def listen(self, activated: Callable[[], None], changed: Callable[[str], None]) -> None:
        """Until close(): Activated of our shortcut -> `activated`; new keys chosen in the desktop -> `changed`."""
        from jeepney import HeaderFields, MessageType

        while True:
            msg = self._take(lambda _msg: True, None)
            fields = msg.header.fields
            if msg.header.message_type != MessageType.signal:
                continue
            interface, member, path = (fields.get(HeaderFields.interface), fields.get(HeaderFields.member),
                                       fields.get(HeaderFields.path))
            if interface == SHORTCUTS_IFACE and path == PORTAL_PATH and msg.body[:1] == (self.session_handle,):
                if member == "Activated" and msg.body[1] == SHORTCUT_ID:
                    activated()
                elif member == "ShortcutsChanged":
                    description = describe_shortcuts(msg.body[1]).get(SHORTCUT_ID)
                    if description:
                        changed(description)
            elif interface == SESSION_IFACE and member == "Closed" and path == self.session_handle:
                self.session_handle = ""  # already gone: nothing to close
                raise HotkeyUnavailable(f"the desktop ended the shortcut session; {DESKTOP_SETTINGS_HINT}")

    def close_session(self) -> None:
        """Best effort, bounded: the portal also closes our session when our connection goes."""
        if not self.session_handle:
            return
        self.conn.reset_interrupt()  # close() interrupted receive; this last call needs it again
        try:
            self.call(self.session_handle, SESSION_IFACE, "Close", None, (), timeout=CLOSE_TIMEOUT)
        except (_CallFailed, HotkeyError, _Stopped) as exc:
            log.info("closing the shortcut session %s: %s", self.session_handle, exc)
        self.session_handle = ""


def describe_shortcuts(shortcuts: Any) -> dict[str, str]:
    """a(sa{sv}) from a Response or ShortcutsChanged -> {id: trigger_description (or description)}."""
    found = {}
    for shortcut_id, props in shortcuts:
        trigger = props.get("trigger_description", ("s", ""))[1] or props.get("description", ("s", ""))[1]
        found[str(shortcut_id)] = str(trigger)
    return found


class PortalHotkey(GlobalHotkey):
    """The shortcut through the GlobalShortcuts portal: not confirmed until `bound` (or `failed`)."""

    _from_worker = Signal(str, object)  # (event, payload), emitted on the worker thread, queued to ours

    def __init__(self, shortcut: Shortcut, parent: QObject | None = None, *, bus: str = "SESSION",
                 app_id: str = APP_ID, description: str = DESCRIPTION) -> None:
        super().__init__(shortcut, parent)
        self.trigger = portal_trigger(shortcut)  # a key the spec can't express fails now, not in the thread
        try:
            import jeepney.io.threading  # noqa: F401 - only to fail early and clearly
        except ImportError as exc:  # pragma: no cover - jeepney ships with keyring on Linux
            raise HotkeyUnavailable(f"the Wayland shortcut needs jeepney (pip install jeepney); "
                                    f"{DESKTOP_SETTINGS_HINT}") from exc
        self.confirmed = False
        self.trigger_description = ""  # what the desktop shows once bound (the user may have changed it)
        self.session_handle = ""
        self._bus, self._app_id, self._description = bus, app_id, description
        self._closed = False
        self._stop = threading.Event()
        self._lock = threading.Lock()  # guards _conn between the worker (sets it) and close() (interrupts it)
        self._conn: Any = None
        self._from_worker.connect(self._on_worker_event, Qt.ConnectionType.QueuedConnection)
        self._thread = threading.Thread(target=self._run, name="hotkey-portal", daemon=True)
        self._thread.start()

    # -- GUI thread ---------------------------------------------------------------------------------------------
    @Slot(str, object)
    def _on_worker_event(self, event: str, payload: object) -> None:
        if self._closed:
            return  # nothing reaches the app after close()
        if event == "activated":
            self.activated.emit()
        elif event == "bound":
            self.confirmed = True
            self.trigger_description = str(payload)
            log.info("global shortcut %s bound by the desktop portal as %s", self.shortcut, payload)
            self.bound.emit(str(payload))
        elif event == "failed":
            self.confirmed = False
            self.failed.emit(payload)

    def close(self) -> None:
        """End the session and the connection; join the worker (bounded: at most ~CLOSE_TIMEOUT + 1 s)."""
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        with self._lock:
            if self._conn is not None:
                self._conn.interrupt()
        self._thread.join(CLOSE_TIMEOUT + 1.0)
        if self._thread.is_alive():  # stuck opening the bus connection; a daemon thread, gone with the process
            log.info("the shortcut portal thread is still opening its connection; leaving it")

    # -- worker thread ------------------------------------------------------------------------------------------
    def _emit(self, event: str, payload: object = None) -> None:
        try:
            self._from_worker.emit(event, payload)
        except RuntimeError:  # the Qt object is gone (the app quit without close()): nobody to tell
            pass

    def _run(self) -> None:
        from jeepney.io.threading import open_dbus_connection

        try:
            conn = open_dbus_connection(bus=self._bus)
        except Exception as exc:  # no bus, refused, timed out: all mean the same to the user
            self._emit("failed", HotkeyUnavailable(f"no D-Bus session bus for the desktop's shortcut portal "
                                                   f"({exc}); {DESKTOP_SETTINGS_HINT}"))
            return
        with self._lock:
            if self._stop.is_set():
                conn.close()
                return
            self._conn = conn
        talk = _Conversation(conn)
        try:
            talk.register(self._app_id)
            talk.require_interface()
            talk.subscribe()
            self.session_handle = talk.create_session()
            self._emit("bound", talk.bind(self.trigger, self._description))
            talk.listen(lambda: self._emit("activated"), lambda trigger: self._emit("bound", trigger))
        except _Stopped:
            pass
        except HotkeyError as exc:
            self._emit("failed", exc)
        except Exception as exc:  # a malformed answer: never the app's end, and the tray menu still works
            log.warning("the desktop's shortcut portal answered something unexpected", exc_info=True)
            self._emit("failed", HotkeyUnavailable(f"the desktop's shortcut portal failed ({exc}); "
                                                   f"{DESKTOP_SETTINGS_HINT}"))
        finally:
            try:
                talk.close_session()
            finally:
                with self._lock:
                    self._conn = None
                conn.close()
