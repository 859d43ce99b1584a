"""Tracker credentials: the OS keyring, or REPORTER_APP_TRACKER_TOKEN for automation. Never a file.

keyring is imported lazily (≈0.1 s) and must never be called on the GUI thread: a locked
collection can open a prompt and block.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

TOKEN_ENV = "REPORTER_APP_TRACKER_TOKEN"
SERVICE = "reporter-app"
# Backends that store secrets in plain text or not at all: never accepted as "secure".
INSECURE_BACKENDS = ("keyrings.alt", "keyring.backends.fail", "keyring.backends.null", "PlaintextKeyring")


class CredentialError(Exception):
    """No usable secure keyring, or no credential stored; the message says what to do."""


def account_name(backend: str, url: str) -> str:
    return f"{backend}:{url}" if url else backend


def _secure_keyring() -> Any:
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError as exc:  # pragma: no cover - keyring is a dependency
        raise CredentialError("the keyring package is not installed") from exc
    try:
        ring = keyring.get_keyring()
    except KeyringError as exc:
        raise CredentialError(f"no OS keyring is available: {exc}") from exc
    name = f"{type(ring).__module__}.{type(ring).__name__}"
    chainer = getattr(ring, "backends", None)
    names = [name] + [f"{type(b).__module__}.{type(b).__name__}" for b in (chainer or [])]
    if any(bad in n for n in names for bad in INSECURE_BACKENDS) and not any(
        "SecretService" in n or "Windows" in n or "macOS" in n or "kwallet" in n.lower() for n in names
    ):
        raise CredentialError(
            f"no secure OS keyring is available (found {name}); start a Secret Service (GNOME Keyring, "
            f"KWallet) or set {TOKEN_ENV} for automation"
        )
    return ring


def get_token(backend: str, url: str, env: Mapping[str, str] | None = None) -> str | None:
    env = os.environ if env is None else env
    if env.get(TOKEN_ENV):
        return env[TOKEN_ENV]
    ring = _secure_keyring()
    try:
        token: str | None = ring.get_password(SERVICE, account_name(backend, url))
        return token
    except Exception as exc:  # keyring raises backend-specific errors (locked, D-Bus gone)
        raise CredentialError(f"the OS keyring did not answer: {exc}") from exc


def store_token(backend: str, url: str, token: str) -> None:
    ring = _secure_keyring()
    try:
        ring.set_password(SERVICE, account_name(backend, url), token)
    except Exception as exc:
        raise CredentialError(f"the OS keyring refused to store the token: {exc}") from exc


def keyring_status() -> tuple[bool, str]:
    """For `doctor`: whether a secure keyring is usable, and which."""
    try:
        ring = _secure_keyring()
    except CredentialError as exc:
        return False, str(exc)
    return True, f"{type(ring).__module__}.{type(ring).__name__}"
