"""A mock XDG desktop portal offering org.freedesktop.portal.GlobalShortcuts, on a private D-Bus bus.

``start_private_bus`` runs ``dbus-daemon`` with a minimal configuration: no service activation, so no real portal
(or anything else) can answer in the mock's place. ``MockShortcutsPortal`` owns ``org.freedesktop.portal.Desktop``
on that bus and, like xdg-desktop-portal (data/org.freedesktop.portal.GlobalShortcuts.xml, Request.xml,
Session.xml, org.freedesktop.host.portal.Registry.xml):

- checks every call's signature and arguments and answers a wrong one with a D-Bus error (and records it in
  ``errors``, which a test should find empty);
- builds Request and Session paths from ``handle_token`` / ``session_handle_token`` and the caller's unique name
  (``:1.42`` -> ``1_42``), returns the Request path, and answers with ``Request::Response`` sent to the caller;
- refuses a Registry.Register after another portal call ("registered too late") or twice;
- lets a session be bound once, by its owner; ``Session.Close`` ends it (and a pending bind dialog);
- emits ``Activated(o, s, t, a{sv})`` when the test calls ``activate()``;
- with ``screenshot_png``, also offers ``org.freedesktop.portal.Screenshot.Screenshot(s, a{sv})``: after
  ``screenshot_delay`` (the desktop's own capture, or its dialog) it writes that PNG to a file and answers with
  its ``file://`` URI, as the portal does.

What it was asked is in ``calls`` (``Call(method, sender, path, args)``, args as plain Python values).
Fixtures: ``shortcuts_bus`` (a private bus, its address) and ``shortcuts_portal`` (a started mock on it).
"""

from __future__ import annotations

import re
import secrets
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.env import require_executable

PORTAL_BUS = "org.freedesktop.portal.Desktop"
PORTAL_PATH = "/org/freedesktop/portal/desktop"
SHORTCUTS = "org.freedesktop.portal.GlobalShortcuts"
REQUEST = "org.freedesktop.portal.Request"
SCREENSHOT = "org.freedesktop.portal.Screenshot"
SESSION = "org.freedesktop.portal.Session"
REGISTRY = "org.freedesktop.host.portal.Registry"
PROPERTIES = "org.freedesktop.DBus.Properties"
INVALID_ARGS = "org.freedesktop.DBus.Error.InvalidArgs"
UNKNOWN_METHOD = "org.freedesktop.DBus.Error.UnknownMethod"
PORTAL_INVALID = "org.freedesktop.portal.Error.InvalidArgument"
PORTAL_FAILED = "org.freedesktop.portal.Error.Failed"

_TOKEN = re.compile(r"[A-Za-z0-9_]+")  # "Must be a valid object path element"
# The XDG shortcuts spec: modifiers from xkbcommon's names, then one keysym name (alphanumerics and '_').
_TRIGGER = re.compile(r"((CTRL|ALT|SHIFT|NUM|LOGO)\+)*[A-Za-z0-9_]+")
_PARENT_WINDOW = re.compile(r"|x11:[0-9a-fA-F]+|wayland:\S+")

_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={dir}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


@dataclass
class PrivateBus:
    address: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if self.process.stdout is not None:
            self.process.stdout.close()


def start_private_bus(directory: Path) -> PrivateBus:
    """A session-type dbus-daemon listening in `directory`, with no activatable services."""
    daemon = require_executable("dbus-daemon", "dbus")
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "bus.conf"
    config.write_text(_BUS_CONFIG.format(dir=directory), encoding="utf-8")
    process = subprocess.Popen([daemon, f"--config-file={config}", "--nofork", "--nopidfile", "--print-address=1"],
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert process.stdout is not None
    address = process.stdout.readline().decode().strip()  # printed once the bus listens
    if not address:
        process.wait(5)
        raise RuntimeError(f"dbus-daemon did not start (exit {process.returncode})")
    return PrivateBus(address, process)


@dataclass(frozen=True)
class Call:
    method: str  # "Interface.Member" without the org.freedesktop prefix noise, e.g. "GlobalShortcuts.BindShortcuts"
    sender: str
    path: str
    args: tuple[Any, ...]


@dataclass
class _Session:
    owner: str
    path: str
    bound: bool = False
    shortcuts: dict[str, dict[str, Any]] = field(default_factory=dict)
    pending: threading.Timer | None = None  # a bind "dialog" still open


def plain(value: Any) -> Any:
    """jeepney's values -> plain ones, so tests compare simple data: a vardict's ("s", "x") becomes "x"."""
    if isinstance(value, dict):
        return {key: plain(_unwrap(item)) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(plain(item) for item in value)
    return value


def _unwrap(item: Any) -> Any:
    # In the a{sv} this portal uses, every value is a variant: (signature, value).
    return item[1] if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str) else item


class _Refused(Exception):
    """A D-Bus error reply; `misuse` ones (a call the spec does not allow) are also recorded in `errors`."""

    def __init__(self, name: str, text: str, misuse: bool = True) -> None:
        super().__init__(text)
        self.name, self.misuse = name, misuse


class MockShortcutsPortal:
    """See the module docstring. `bind_response`: 0 (bound), 1 (the user cancelled), 2 (other);
    `bind_delay`: how long the "dialog" stays open; `keep_shortcuts=False`: the user unticked ours;
    `trigger_description`: what the user chose instead of the preferred trigger."""

    def __init__(self, address: str, *, interface: bool = True, registry: bool = True, version: int = 1,
                 bind_response: int = 0, bind_delay: float = 0.0, keep_shortcuts: bool = True,
                 trigger_description: str | None = None, clock_ms: Callable[[], int] | None = None,
                 screenshot_png: bytes | None = None, screenshot_delay: float = 0.0,
                 screenshot_dir: Path | None = None) -> None:
        self.address = address
        self.screenshot_png, self.screenshot_delay = screenshot_png, screenshot_delay
        self.screenshot_dir = screenshot_dir
        self.interface, self.registry, self.version = interface, registry, version
        self.bind_response, self.bind_delay, self.keep_shortcuts = bind_response, bind_delay, keep_shortcuts
        self.trigger_description = trigger_description
        self._clock_ms = clock_ms or (lambda: time.monotonic_ns() // 1_000_000)
        self.calls: list[Call] = []
        self.errors: list[str] = []
        self.sessions: dict[str, _Session] = {}
        self._registered: set[str] = set()
        self._portal_callers: set[str] = set()
        self._changed = threading.Condition()
        self._conn: Any = None
        self._stopping = False
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------------------------------
    def start(self) -> MockShortcutsPortal:
        from jeepney.bus_messages import message_bus
        from jeepney.io.threading import DBusRouter, open_dbus_connection

        self._conn = open_dbus_connection(bus=self.address)
        with DBusRouter(self._conn) as router:  # a router only for this one call, then the loop reads alone
            reply = router.send_and_get_reply(message_bus.RequestName(PORTAL_BUS, 4), timeout=5)  # 4: do not queue
        if reply.body != (1,):  # 1: primary owner
            raise RuntimeError(f"the mock portal could not own {PORTAL_BUS}: {reply.body}")
        self._thread = threading.Thread(target=self._serve, name="mock-shortcuts-portal", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping = True
        for session in self.sessions.values():
            if session.pending is not None:
                session.pending.cancel()
        if self._conn is not None:
            self._conn.interrupt()
            if self._thread is not None:
                self._thread.join(5)
            self._conn.close()
            self._conn = None

    def _serve(self) -> None:
        from jeepney import MessageType
        from jeepney.io.threading import ReceiveStopped

        while True:
            try:
                msg = self._conn.receive()
            except (ReceiveStopped, OSError, EOFError):
                return
            if msg.header.message_type == MessageType.method_call:
                self._dispatch(msg)

    # -- what tests use -----------------------------------------------------------------------------------------
    def wait_for(self, method: str, timeout: float = 5.0) -> Call:
        """The first recorded call of `method` ("GlobalShortcuts.BindShortcuts", "Session.Close", ...)."""
        with self._changed:
            found = self._changed.wait_for(lambda: [c for c in self.calls if c.method == method], timeout)
        if not found:
            raise AssertionError(f"no {method} within {timeout}s; calls: {[c.method for c in self.calls]}, "
                                 f"errors: {self.errors}")
        return found[0]

    def methods(self) -> list[str]:
        with self._changed:
            return [c.method for c in self.calls]

    def bound_session(self, timeout: float = 5.0) -> _Session:
        with self._changed:
            ok = self._changed.wait_for(lambda: any(s.bound for s in self.sessions.values()), timeout)
            if not ok:
                raise AssertionError(f"no bound session within {timeout}s; errors: {self.errors}")
            return next(s for s in self.sessions.values() if s.bound)

    def activate(self, shortcut_id: str = "report", session: _Session | None = None) -> int:
        """Emit Activated for a bound session's shortcut, as the desktop does on the key press; the timestamp."""
        target = session or self.bound_session()
        if shortcut_id not in target.shortcuts:
            raise AssertionError(f"{shortcut_id!r} is not bound in {target.path}: {list(target.shortcuts)}")
        stamp = self._clock_ms()
        self._signal(target.owner, PORTAL_PATH, SHORTCUTS, "Activated", "osta{sv}",
                     (target.path, shortcut_id, stamp, {}))
        return stamp

    def close_session_from_desktop(self, session: _Session) -> None:
        """The desktop ends the session (e.g. the user revoked it): Session::Closed."""
        with self._changed:
            self.sessions.pop(session.path, None)
        self._signal(session.owner, session.path, SESSION, "Closed", "a{sv}", ({},))

    # -- D-Bus plumbing -----------------------------------------------------------------------------------------
    def _signal(self, destination: str, path: str, interface: str, member: str, signature: str,
                body: tuple[Any, ...]) -> None:
        from jeepney import DBusAddress, HeaderFields, new_signal

        msg = new_signal(DBusAddress(path, interface=interface), member, signature, body)
        msg.header.fields[HeaderFields.destination] = destination  # like xdg-desktop-portal: to the caller only
        conn = self._conn
        if self._stopping or conn is None:
            return  # a delayed answer after stop(): the portal is gone, as a real one would be
        try:
            conn.send(msg)
        except OSError:
            if self._stopping:  # stop() closed the connection while this answer was on its way
                return
            raise

    def _reply(self, msg: Any, signature: str | None = None, body: tuple[Any, ...] = ()) -> None:
        from jeepney import new_method_return

        self._conn.send(new_method_return(msg, signature, body))

    def _record(self, method: str, msg: Any, args: tuple[Any, ...]) -> None:
        from jeepney import HeaderFields

        fields = msg.header.fields
        with self._changed:
            self.calls.append(Call(method, fields[HeaderFields.sender], fields[HeaderFields.path], plain(args)))
            self._changed.notify_all()

    def _dispatch(self, msg: Any) -> None:
        from jeepney import HeaderFields, new_error

        fields = msg.header.fields
        interface, member, path = (fields.get(HeaderFields.interface), fields.get(HeaderFields.member),
                                   fields.get(HeaderFields.path))
        handler = self._handler(interface, member, path)
        try:
            if handler is None:
                raise _Refused(UNKNOWN_METHOD, f"No such interface or method {interface}.{member} at {path}")
            expected, run = handler
            signature = fields.get(HeaderFields.signature, "")
            if signature != expected:
                raise _Refused(INVALID_ARGS, f"{member}: signature ({signature}) is not the expected ({expected})")
            run(msg)
        except (ValueError, TypeError, KeyError) as exc:  # a body this mock can't even take apart
            refused = _Refused(INVALID_ARGS, f"{member}: malformed arguments ({exc})")
            with self._changed:
                self.errors.append(str(refused))
                self._changed.notify_all()
            self._conn.send(new_error(msg, refused.name, "s", (str(refused),)))
        except _Refused as refused:
            if handler is not None and refused.misuse:
                with self._changed:
                    self.errors.append(f"{member}: {refused}")
                    self._changed.notify_all()
            self._conn.send(new_error(msg, refused.name, "s", (str(refused),)))

    def _handler(self, interface: str | None, member: str | None,
                 path: str | None) -> tuple[str, Callable[[Any], None]] | None:
        if path == PORTAL_PATH:
            table: dict[tuple[str | None, str | None], tuple[str, Callable[[Any], None]]] = {
                (PROPERTIES, "Get"): ("ss", self._get_property),
            }
            if self.registry:
                table[(REGISTRY, "Register")] = ("sa{sv}", self._register)
            if self.screenshot_png is not None:
                table[(SCREENSHOT, "Screenshot")] = ("sa{sv}", self._screenshot)
            if self.interface:
                table[(SHORTCUTS, "CreateSession")] = ("a{sv}", self._create_session)
                table[(SHORTCUTS, "BindShortcuts")] = ("oa(sa{sv})sa{sv}", self._bind_shortcuts)
            return table.get((interface, member))
        if path in self.sessions and (interface, member) == (SESSION, "Close"):
            return "", self._close_session
        return None

    # -- the portal -----------------------------------------------------------------------------------------
    def _sender_part(self, msg: Any) -> str:
        from jeepney import HeaderFields

        return str(msg.header.fields[HeaderFields.sender]).lstrip(":").replace(".", "_")

    def _portal_call(self, msg: Any) -> str:
        from jeepney import HeaderFields

        sender = str(msg.header.fields[HeaderFields.sender])
        self._portal_callers.add(sender)
        return sender

    @staticmethod
    def _options(options: dict[str, Any], allowed: dict[str, str], member: str) -> dict[str, Any]:
        """Check a vardict's known keys have their type; an unknown key is an error here (we send none)."""
        for key, (signature, value) in options.items():
            if key not in allowed:
                raise _Refused(PORTAL_INVALID, f"{member}: unknown option {key!r}")
            if signature != allowed[key]:
                raise _Refused(PORTAL_INVALID, f"{member}: option {key!r} must be {allowed[key]}, not {signature}")
            if key.endswith("token") and not _TOKEN.fullmatch(value):
                raise _Refused(PORTAL_INVALID, f"{member}: {key} {value!r} is not a valid object path element")
        return {key: value for key, (_sig, value) in options.items()}

    def _register(self, msg: Any) -> None:
        from jeepney import HeaderFields

        app_id, options = msg.body
        sender = str(msg.header.fields[HeaderFields.sender])
        if options:
            raise _Refused(PORTAL_INVALID, f"Register: no options are defined, got {sorted(options)}")
        if not app_id or not re.fullmatch(r"[A-Za-z0-9_.-]+", app_id):
            raise _Refused(PORTAL_FAILED, f"Could not register app ID: {app_id!r} is not an application id")
        if sender in self._registered or sender in self._portal_callers:
            raise _Refused(PORTAL_INVALID, "Registered too late")  # only once, and before any portal call
        self._registered.add(sender)
        self._record("Registry.Register", msg, (app_id, options))
        self._reply(msg)

    def _get_property(self, msg: Any) -> None:
        interface, name = msg.body
        if interface == SHORTCUTS and self.interface and name == "version":
            self._record("Properties.Get", msg, (interface, name))
            self._reply(msg, "v", (("u", self.version),))
        elif interface == REGISTRY and self.registry and name == "version":
            self._reply(msg, "v", (("u", 1),))
        else:  # what GDBus answers for an interface the object does not have
            # Asking is how a client finds out (not a misuse).
            raise _Refused(INVALID_ARGS, f"No such interface “{interface}”", misuse=False)

    def _create_session(self, msg: Any) -> None:
        sender = self._portal_call(msg)
        (options,) = msg.body
        given = self._options(options, {"handle_token": "s", "session_handle_token": "s"}, "CreateSession")
        part = self._sender_part(msg)
        request = f"{PORTAL_PATH}/request/{part}/{given.get('handle_token') or 't' + secrets.token_hex(4)}"
        session = f"{PORTAL_PATH}/session/{part}/{given.get('session_handle_token') or 's' + secrets.token_hex(4)}"
        if session in self.sessions:
            raise _Refused(PORTAL_INVALID, f"CreateSession: session {session} exists already")
        with self._changed:
            self.sessions[session] = _Session(sender, session)
        self._record("GlobalShortcuts.CreateSession", msg, (options,))
        self._reply(msg, "o", (request,))
        # session_handle is an object path "erroneously implemented as s" (kept for compatibility).
        self._signal(sender, request, REQUEST, "Response", "ua{sv}", (0, {"session_handle": ("s", session)}))

    def _bind_shortcuts(self, msg: Any) -> None:
        sender = self._portal_call(msg)
        session_path, shortcuts, parent_window, options = msg.body
        session = self.sessions.get(session_path)
        if session is None or session.owner != sender:
            raise _Refused(PORTAL_INVALID, f"BindShortcuts: invalid session {session_path}")
        if session.bound or session.pending is not None:
            raise _Refused(PORTAL_INVALID, "BindShortcuts: a session's shortcuts can only be bound once")
        if not _PARENT_WINDOW.fullmatch(parent_window):
            raise _Refused(PORTAL_INVALID, f"BindShortcuts: bad parent_window {parent_window!r}")
        given = self._options(options, {"handle_token": "s"}, "BindShortcuts")
        if not shortcuts:
            raise _Refused(PORTAL_INVALID, "BindShortcuts: no shortcuts")
        wanted: dict[str, dict[str, Any]] = {}
        for shortcut_id, props in shortcuts:
            if not shortcut_id or shortcut_id in wanted:
                raise _Refused(PORTAL_INVALID, f"BindShortcuts: empty or repeated shortcut id {shortcut_id!r}")
            values = self._options(props, {"description": "s", "preferred_trigger": "s"}, "BindShortcuts")
            if not values.get("description"):
                raise _Refused(PORTAL_INVALID, f"BindShortcuts: shortcut {shortcut_id!r} has no description")
            trigger = values.get("preferred_trigger")
            if trigger is not None and not _valid_trigger(trigger):
                raise _Refused(PORTAL_INVALID, f"BindShortcuts: {trigger!r} is not a shortcuts-spec trigger")
            wanted[shortcut_id] = values
        request = f"{PORTAL_PATH}/request/{self._sender_part(msg)}/{given.get('handle_token') or 'b'}"
        self._record("GlobalShortcuts.BindShortcuts", msg, (session_path, shortcuts, parent_window, options))
        self._reply(msg, "o", (request,))

        def answer() -> None:
            with self._changed:
                if self.sessions.get(session_path) is not session:
                    return  # closed while the dialog was open: no answer, as the portal does
                session.pending = None
                kept = wanted if self.bind_response == 0 and self.keep_shortcuts else {}
                if self.bind_response == 0:
                    session.bound, session.shortcuts = True, kept
                self._changed.notify_all()
            results: dict[str, Any] = {}
            if self.bind_response == 0:
                results["shortcuts"] = ("a(sa{sv})", [
                    (sid, {"description": ("s", values["description"]),
                           "trigger_description": ("s", self.trigger_description
                                                   or values.get("preferred_trigger", ""))})
                    for sid, values in kept.items()])
            self._signal(sender, request, REQUEST, "Response", "ua{sv}", (self.bind_response, results))

        session.pending = threading.Timer(self.bind_delay, answer)
        session.pending.daemon = True
        session.pending.start()

    def _screenshot(self, msg: Any) -> None:
        sender = self._portal_call(msg)
        parent_window, options = msg.body
        if not _PARENT_WINDOW.fullmatch(parent_window):
            raise _Refused(PORTAL_INVALID, f"Screenshot: bad parent_window {parent_window!r}")
        given = self._options(options, {"handle_token": "s", "interactive": "b", "modal": "b"}, "Screenshot")
        request = f"{PORTAL_PATH}/request/{self._sender_part(msg)}/{given.get('handle_token') or 'shot'}"
        self._record("Screenshot.Screenshot", msg, (parent_window, options))
        self._reply(msg, "o", (request,))
        png, directory = self.screenshot_png or b"", self.screenshot_dir

        def answer() -> None:
            if directory is None:
                raise RuntimeError("MockShortcutsPortal(screenshot_png=...) needs screenshot_dir")
            path = directory / f"Screenshot-{secrets.token_hex(4)}.png"
            path.write_bytes(png)
            self._signal(sender, request, REQUEST, "Response", "ua{sv}", (0, {"uri": ("s", path.as_uri())}))

        timer = threading.Timer(self.screenshot_delay, answer)
        timer.daemon = True
        timer.start()

    def _close_session(self, msg: Any) -> None:
        from jeepney import HeaderFields

        path = str(msg.header.fields[HeaderFields.path])
        session = self.sessions.get(path)
        if session is None or session.owner != msg.header.fields[HeaderFields.sender]:
            raise _Refused(UNKNOWN_METHOD, f"No such object {path}")
        with self._changed:
            if session.pending is not None:
                session.pending.cancel()  # "ends all related user interaction (dialogs, etc)"
            del self.sessions[path]
        self._record("Session.Close", msg, ())
        self._reply(msg)


def _valid_trigger(trigger: str) -> bool:
    if not _TRIGGER.fullmatch(trigger):
        return False
    modifiers = trigger.split("+")[:-1]
    return len(modifiers) == len(set(modifiers))


@pytest.fixture
def shortcuts_bus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The address of a private D-Bus bus (nothing activatable on it)."""
    bus = start_private_bus(tmp_path_factory.mktemp("dbus"))
    try:
        yield bus.address
    finally:
        bus.stop()


@pytest.fixture
def shortcuts_portal(shortcuts_bus: str) -> Iterator[MockShortcutsPortal]:
    """The mock portal with its defaults (interface present, binds at once), started on `shortcuts_bus`."""
    portal = MockShortcutsPortal(shortcuts_bus).start()
    try:
        yield portal
    finally:
        portal.stop()
