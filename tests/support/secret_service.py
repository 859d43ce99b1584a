"""The real SecretService keyring for the tests (gnome-keyring in a private D-Bus session).

A pytest plugin (registered by ``tests/conftest.py``). ``scripts/with-test-session`` (used by ``scripts/test-all``)
starts a private session bus and a fresh, unlocked gnome-keyring and sets ``REPORTER_APP_TEST_SECRET_SERVICE=1``.
Outside of it the ``secret_service`` fixture skips (fails under CI / test-all): the tests must never write into
the developer's own keyring.

``secret_service`` yields the ``keyring`` SecretService backend, made the process' keyring for the test, and deletes
every item from the test collection afterwards. Never call it from the Qt GUI thread (it blocks on D-Bus).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.env import unavailable

ENV_FLAG = "REPORTER_APP_TEST_SECRET_SERVICE"


def _clear_default_collection() -> None:
    import secretstorage

    connection = secretstorage.dbus_init()
    try:
        collection = secretstorage.get_default_collection(connection)
        for item in list(collection.get_all_items()):
            item.delete()
    finally:
        connection.close()


@pytest.fixture
def secret_service() -> Iterator[Any]:
    """The SecretService ``keyring`` backend on the private test keyring (empty at the start of the test)."""
    if os.environ.get(ENV_FLAG) != "1" or not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        unavailable("no private SecretService keyring: run under scripts/with-test-session (scripts/test-all does)")
    import keyring
    from keyring.backends import SecretService

    backend = SecretService.Keyring()
    try:
        backend.priority  # noqa: B018 - raises when the service is not usable
    except Exception as exc:  # noqa: BLE001
        unavailable(f"SecretService keyring not usable: {exc}")
    _clear_default_collection()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)
        _clear_default_collection()

