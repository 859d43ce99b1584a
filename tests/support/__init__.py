"""Shared test infrastructure: fixtures (as pytest plugins) and helpers for every tier.

Plugins, registered by ``tests/conftest.py``:

- ``tests.support.log_guard``: fails a test that logs a WARNING or worse it did not declare.
- ``tests.support.display``: Xvfb screens (one monitor or two), openbox, a tray host.
- ``tests.support.secret_service``: the real SecretService keyring set up by ``scripts/with-test-session``.
- ``tests.support.redmine``: the Redmine started by ``scripts/redmine-up`` (used by the integration and system tiers).

Missing infrastructure skips locally and fails under CI (``CI=true``) or ``scripts/test-all``: see ``tests.support.env``.
The files ``tests/support/test_*.py`` check the infrastructure itself (tier ``infra`` of ``scripts/test-all``).
"""
