"""Refusals: the tracker says no (401, 403, 404 project, 413, 422). Each report goes to needs_attention with the
tracker's own message, nothing is deleted, and after the fix `outbox retry` files each exactly once.

401, 404 and 422 are produced by the real Redmine (a wrong key, a wrong project, a value its list field does not
allow); 403 and 413 by the proxy, as a reverse proxy or a permission change in front of Redmine would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from reporter_app.app import AppContext
from reporter_app.outbox import OutboxState
from tests.integration.reliability.faultproxy import Fault, FaultProxy
from tests.integration.reliability.harness import (
    drive,
    load_context,
    queue_reports,
    record,
    redmine_keys,
    tally,
    write_config,
)
from tests.support.redmine import Redmine

COUNT = 5


@dataclass(frozen=True)
class Refusal:
    name: str
    message: str  # what the user must read in the outbox
    token: str | None = None  # None: the reporter's real key
    project: str | None = None  # None: the real project
    extra_config: str = ""
    proxy_fault: Fault | None = None
    proxy_path: str = "/issues.json"


REFUSALS = [
    Refusal("401 bad key", "rejected the API key (401 Unauthorized)", token="0" * 40),
    Refusal("403 forbidden", "403 Forbidden", proxy_fault=Fault("status", status=403)),
    Refusal("404 project", "has no project 'no-such-project'", project="no-such-project"),
    Refusal("413 too large", "too large request (413)", proxy_fault=Fault("status", status=413),
            proxy_path="/uploads.json"),
    Refusal("422 invalid", "Redmine refused it (422): Impact is not included in the list",
            extra_config='fixed_fields = ["impact=not-a-choice"]\n'),
]


def _fix(redmine: Redmine, proxy: FaultProxy, home: Path) -> Callable[[], AppContext]:
    """What the user does: the right key, project and settings (a new app start), the proxy's fault lifted."""
    def apply() -> AppContext:
        proxy.clear()
        write_config(home, proxy.url, redmine.project)
        return load_context(home, redmine.reporter_api_key)
    return apply


@pytest.mark.parametrize("refusal", REFUSALS, ids=[r.name for r in REFUSALS])
def test_refusal_needs_attention_then_retry_files_once(redmine: Redmine, proxy: FaultProxy, key_field: int,
                                                      tmp_path, refusal: Refusal) -> None:
    home = tmp_path / "home"
    write_config(home, proxy.url, refusal.project or redmine.project, extra=refusal.extra_config)
    if refusal.proxy_fault is not None:
        proxy.add(refusal.proxy_fault, method="POST", path_prefix=refusal.proxy_path)
    ctx = load_context(home, refusal.token or redmine.reporter_api_key)
    keys = queue_reports(ctx, COUNT, refusal.name)

    drive(ctx, deadline_seconds=60)

    entries = ctx.outbox.entries()
    assert [e.state for e in entries] == [OutboxState.NEEDS_ATTENTION] * COUNT, [(e.state, e.last_error)
                                                                                 for e in entries]
    for entry in entries:
        assert refusal.message in entry.last_error, entry.last_error
        assert entry.bundle_path.is_dir()  # nothing deleted
    assert sum(redmine_keys(redmine.session, redmine.url, redmine.project, key_field).values()) == 0
    bundles = sorted(e.bundle_path for e in entries)
    ctx.outbox.close()

    ctx = _fix(redmine, proxy, home)()
    assert ctx.outbox.retry() == COUNT
    drive(ctx, deadline_seconds=60)

    entries = ctx.outbox.entries()
    assert [e.state for e in entries] == [OutboxState.FILED] * COUNT, [(e.state, e.last_error) for e in entries]
    assert sorted(e.bundle_path for e in entries) == bundles and all(b.is_dir() for b in bundles)
    row = tally(f"refused {refusal.name}, then fixed", keys,
                redmine_keys(redmine.session, redmine.url, redmine.project, key_field))
    record(row)
    assert row.perfect, row
    ctx.outbox.close()
