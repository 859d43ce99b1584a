"""Fixtures of the reliability suite: a pristine Redmine (``redmine``), a fault proxy in front of it, and app homes.

The helpers live beside the tests (``faultproxy.py``, ``harness.py``) and are imported by their full module path
(``tests.integration.reliability.*``), as ``--import-mode=importlib`` requires; the bench command imports them too.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.reliability.faultproxy import FaultProxy
from tests.support.redmine import Redmine


@pytest.fixture
def proxy(redmine: Redmine) -> Iterator[FaultProxy]:
    with FaultProxy(redmine.url) as running:
        yield running


@pytest.fixture
def key_field(redmine: Redmine) -> int:
    return redmine.custom_field_id("idempotency_key")
