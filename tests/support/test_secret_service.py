"""The private SecretService keyring (scripts/with-test-session) works for the keyring library."""

from __future__ import annotations

import os
from typing import Any

import keyring
import pytest


def test_round_trip(secret_service: Any) -> None:
    keyring.set_password("reporter-app-test", "ada", "s3cret")
    assert keyring.get_password("reporter-app-test", "ada") == "s3cret"
    keyring.delete_password("reporter-app-test", "ada")
    assert keyring.get_password("reporter-app-test", "ada") is None


def test_starts_empty(secret_service: Any, request: pytest.FixtureRequest) -> None:
    keyring.set_password("reporter-app-test", "leftover", "x")  # removed by the fixture afterwards
    assert request.node.get_closest_marker("keyring") is not None
    assert os.environ.get("DBUS_SESSION_BUS_ADDRESS")
