"""The mock GlobalShortcuts portal refuses what the spec does not allow: otherwise a wrong client would pass."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.mock_portal_shortcuts import (  # noqa: F401  (fixtures)
    PORTAL_BUS,
    PORTAL_PATH,
    REGISTRY,
    SESSION,
    SHORTCUTS,
    MockShortcutsPortal,
    shortcuts_bus,
    shortcuts_portal,
)


class Client:
    """A bare jeepney client: sends exactly what a test writes, whatever the spec says."""

    def __init__(self, address: str) -> None:
        from jeepney.io.blocking import open_dbus_connection

        self.conn = open_dbus_connection(bus=address)
        self.part = self.conn.unique_name.lstrip(":").replace(".", "_")

    def call(self, interface: str, method: str, signature: str | None, body: tuple[Any, ...],
             path: str = PORTAL_PATH) -> Any:
        from jeepney import DBusAddress, new_method_call

        address = DBusAddress(path, bus_name=PORTAL_BUS, interface=interface)
        return self.conn.send_and_get_reply(new_method_call(address, method, signature, body), timeout=5)

    def session(self, token: str = "s1") -> str:
        reply = self.call(SHORTCUTS, "CreateSession", "a{sv}",
                          ({"handle_token": ("s", "r1"), "session_handle_token": ("s", token)},))
        assert reply.body == (f"{PORTAL_PATH}/request/{self.part}/r1",)
        return f"{PORTAL_PATH}/session/{self.part}/{token}"

    def bind(self, session: str, props: dict[str, Any], window: str = "") -> Any:
        return self.call(SHORTCUTS, "BindShortcuts", "oa(sa{sv})sa{sv}",
                         (session, [("report", props)], window, {"handle_token": ("s", "b1")}))


@pytest.fixture
def client(shortcuts_bus: str) -> Iterator[Client]:
    made = Client(shortcuts_bus)
    yield made
    made.conn.close()


def error_of(reply: Any) -> str:
    from jeepney import HeaderFields, MessageType

    assert reply.header.message_type == MessageType.error, f"expected an error, got {reply.body}"
    return f"{reply.header.fields[HeaderFields.error_name]}: {reply.body[0]}"


GOOD = {"description": ("s", "Report a problem"), "preferred_trigger": ("s", "CTRL+ALT+b")}


def test_a_valid_bind_is_answered_and_recorded(client: Client, shortcuts_portal: MockShortcutsPortal) -> None:
    session = client.session()
    assert client.bind(session, GOOD).body == (f"{PORTAL_PATH}/request/{client.part}/b1",)
    assert shortcuts_portal.bound_session().shortcuts == {"report": {"description": "Report a problem",
                                                                     "preferred_trigger": "CTRL+ALT+b"}}
    assert shortcuts_portal.errors == []


@pytest.mark.parametrize(
    ("props", "window", "refusal"),
    [
        ({"description": ("s", "x"), "preferred_trigger": ("s", "Ctrl+Alt+B")}, "", "not a shortcuts-spec trigger"),
        ({"description": ("s", "x"), "preferred_trigger": ("s", "CTRL+CTRL+b")}, "", "not a shortcuts-spec trigger"),
        ({"preferred_trigger": ("s", "CTRL+b")}, "", "has no description"),
        ({"description": ("u", 1)}, "", "option 'description' must be s"),
        ({"description": ("s", "x"), "trigger": ("s", "CTRL+b")}, "", "unknown option 'trigger'"),
        (GOOD, "window-42", "bad parent_window"),
    ],
)
def test_a_bind_the_spec_does_not_allow_is_refused(client: Client, shortcuts_portal: MockShortcutsPortal,
                                                   props: dict[str, Any], window: str, refusal: str) -> None:
    session = client.session()
    assert refusal in error_of(client.bind(session, props, window))
    assert len(shortcuts_portal.errors) == 1 and refusal in shortcuts_portal.errors[0]


def test_wrong_signature_second_bind_foreign_session_and_late_register(
        client: Client, shortcuts_portal: MockShortcutsPortal, shortcuts_bus: str) -> None:
    assert "signature (a{ss})" in error_of(client.call(SHORTCUTS, "CreateSession", "a{ss}", ({"handle_token": "x"},)))
    session = client.session()
    client.bind(session, GOOD)
    shortcuts_portal.bound_session()
    assert "only be bound once" in error_of(client.bind(session, GOOD))
    assert "Registered too late" in error_of(client.call(REGISTRY, "Register", "sa{sv}", ("reporter-app", {})))
    other = Client(shortcuts_bus)
    try:
        assert "No such object" in error_of(other.call(SESSION, "Close", None, (), path=session))
    finally:
        other.conn.close()
    assert client.call(SESSION, "Close", None, (), path=session).body == ()
    assert not shortcuts_portal.sessions
