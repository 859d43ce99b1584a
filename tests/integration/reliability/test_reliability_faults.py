"""Network and server faults between the app and the real Redmine: every report is filed exactly once.

For each fault, 20 reports (RELIABILITY_REPORTS) go through the real outbox, sender and RedmineTracker, with
`tracker.url` pointing at the fault proxy. Each report meets the fault on its first try; then the fault clears and
the app's send loop runs in real time until nothing is pending. Redmine itself is then asked how many issues carry
each report's idempotency key: exactly one each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pytest

from reporter_app.outbox import OutboxState
from tests.integration.reliability.faultproxy import Fault, FaultProxy, Logged
from tests.integration.reliability.harness import (
    drive,
    load_context,
    queue_reports,
    record,
    redmine_keys,
    reports_per_fault,
    tally,
    write_config,
)
from tests.support.redmine import Redmine


@dataclass(frozen=True)
class Scenario:
    name: str
    fault: Fault
    method: str
    path: str
    timeout: float = 5.0
    # True when the proxy passes the request on before failing: Redmine did the work, the client never heard.
    forwarded: bool = False


SCENARIOS = [
    Scenario("500", Fault("status", status=500), "POST", "/issues.json"),
    Scenario("502", Fault("status", status=502), "POST", "/issues.json"),
    Scenario("503 Retry-After", Fault("status", status=503, retry_after="2"), "POST", "/issues.json"),
    Scenario("429 Retry-After", Fault("status", status=429, retry_after="2"), "POST", "/issues.json"),
    # Redmine creates the issue; the answer never comes within the client's 1 s timeout.
    Scenario("hang past timeout", Fault("hang", hang_seconds=2.0), "POST", "/issues.json", timeout=1.0,
             forwarded=True),
    # The attachment upload dies half sent: Redmine never sees it.
    Scenario("reset mid-request", Fault("reset_request"), "POST", "/uploads.json"),
    Scenario("reset mid-response", Fault("reset_response"), "POST", "/issues.json", forwarded=True),
    # Every answer dribbles out 128 bytes every 10 ms: slow, but each read is inside the timeout.
    Scenario("trickle", Fault("trickle", chunk_bytes=128, chunk_delay=0.01), "", "/"),
]


def _retry_after_honoured(proxy: FaultProxy, keys: list[str], seconds: float,
                          due_seen: dict[str, datetime]) -> None:
    """No request for a report came before the advertised time, and the outbox scheduled it no earlier."""
    for key in keys:
        mine: list[Logged] = proxy.requests(lambda e: e.mentions(key))
        faulted = [i for i, e in enumerate(mine) if e.fault != "pass"]
        assert faulted, f"{key} never met the fault"
        for i in faulted:
            not_before = mine[i].at + seconds
            later = mine[i + 1:]
            assert later, f"{key} was never retried"
            assert later[0].at >= not_before, (
                f"{key} retried {not_before - later[0].at:.3f} s before Retry-After allowed")
        assert key in due_seen, f"{key} was never seen waiting in the outbox"
        assert due_seen[key].timestamp() >= mine[faulted[0]].at + seconds


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_each_report_filed_exactly_once_through_the_fault(redmine: Redmine, proxy: FaultProxy, key_field: int,
                                                         tmp_path, scenario: Scenario) -> None:
    count = reports_per_fault()
    home = tmp_path / "home"
    write_config(home, proxy.url, redmine.project, timeout=scenario.timeout)
    ctx = load_context(home, redmine.reporter_api_key)
    keys = queue_reports(ctx, count, scenario.name)
    # Each report meets the fault once (the rule is used up after `count` matches): "the fault clears".
    proxy.add(scenario.fault, method=scenario.method or None, path_prefix=scenario.path,
              times=None if scenario.fault.kind == "trickle" else count)

    due_seen: dict[str, datetime] = {}

    def watch(ctx_: object) -> None:
        for entry in ctx.outbox.entries((OutboxState.WAITING_RETRY,)):
            if entry.next_attempt_at is not None:
                due_seen.setdefault(entry.idempotency_key, entry.next_attempt_at)

    drive(ctx, deadline_seconds=120, after_round=watch)
    proxy.clear()
    row = tally(scenario.name, keys, redmine_keys(redmine.session, redmine.url, redmine.project, key_field))
    record(row)

    entries = ctx.outbox.entries()
    assert [e.state for e in entries] == [OutboxState.FILED] * count, [(e.state, e.last_error) for e in entries]
    assert row.perfect, row
    if scenario.fault.kind != "trickle":
        assert sum(1 for e in proxy.log if e.fault != "pass") == count  # every report really met the fault
    if scenario.fault.retry_after:
        _retry_after_honoured(proxy, keys, float(scenario.fault.retry_after), due_seen)
    if scenario.forwarded:
        # Redmine created every issue on the faulted request; the retry found it instead of posting again.
        creates = proxy.requests(lambda e: e.method == "POST" and e.path.startswith("/issues.json"))
        assert len(creates) == count
    ctx.outbox.close()
