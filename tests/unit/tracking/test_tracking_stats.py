"""Stats from tracked tickets: medians, nearest-rank p90, compliance, reopen rate, fix vs deploy, root causes."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

from reporter_app.trackers.base import TicketState
from reporter_app.tracking.changes import Snapshot
from reporter_app.tracking.sla import SlaPolicy
from reporter_app.tracking.stats import Spread, compute_stats, format_csv, format_text
from reporter_app.tracking.store import TrackedTicket, Validators

from .conftest import T0

NOW = T0 + timedelta(days=30)


def ticket(key, priority="P1", *, filed=T0, response=None, resolved=None, released=None, reopens=0,
           state=TicketState.IN_PROGRESS, root_cause=None, name=None):
    minutes = lambda m: None if m is None else filed + timedelta(minutes=m)  # noqa: E731
    return TrackedTicket(
        backend="local", key=key, url="", title=f"title {key}", report_id=f"r-{key}", priority=priority,
        filed_at=filed, followed_at=filed or T0, snapshot=Snapshot(state=state, status_name=name or state.value),
        seen_at=NOW, first_response_at=minutes(response), resolved_at=minutes(resolved), closed_at=None,
        released_at=minutes(released), reopen_count=reopens, root_cause=root_cause, next_poll_at=NOW, failures=0,
        last_error="", missing_since=None, validators=Validators())


def test_spread_median_and_nearest_rank_p90():
    spread = Spread.of(timedelta(minutes=m) for m in [10, 20, 30, 40, 50, 60, 70, 80, 90, 100])
    assert (spread.count, spread.median, spread.p90) == (10, timedelta(minutes=55), timedelta(minutes=90))
    assert Spread.of([timedelta(minutes=7)]).p90 == timedelta(minutes=7)
    assert Spread.of([]).text() == "-"


def test_per_priority_figures():
    tickets = [
        ticket("A", response=30, resolved=600, released=900, state=TicketState.RESOLVED, root_cause=True),
        ticket("B", response=90, resolved=2000, reopens=1, state=TicketState.CLOSED, root_cause=False),
        ticket("C", response=None),  # P1 never answered after 30 days: breached
        ticket("D", "P3", response=60 * 24 * 3),
        ticket("E", "", response=5),
    ]
    report = compute_stats(tickets, SlaPolicy(), NOW)
    rows = {r.priority: r for r in report.rows}
    p1 = rows["P1"]
    assert p1.tickets == 3
    assert (p1.first_response.count, p1.first_response.median) == (2, timedelta(minutes=60))
    assert (p1.first_response_sla.hits, p1.first_response_sla.total) == (1, 3)
    assert (p1.resolution_sla.hits, p1.resolution_sla.total) == (1, 3)  # A in 10h; B in 33h; C still open, late
    assert (p1.reopened.hits, p1.reopened.total) == (1, 2)
    assert (p1.fix.count, p1.fix.median, p1.deploy.median) == (1, timedelta(minutes=600), timedelta(minutes=300))
    assert rows["P3"].first_response_sla.total == 1 and rows["P3"].first_response_sla.hits == 0  # 3d > 2bd
    assert rows["none"].tickets == 1 and rows["none"].first_response_sla.total == 0
    assert rows["all"].tickets == 5
    assert [(g.key, g.known) for g in report.root_cause_gaps] == [("B", True)]


def test_since_filters_by_filing_time_and_lookups_without_one_are_counted_apart():
    tickets = [ticket("old", filed=T0 - timedelta(days=60)), ticket("new"), ticket("lookup", filed=None)]
    report = compute_stats(tickets, SlaPolicy(), NOW, since=T0 - timedelta(days=1))
    assert report.rows[-1].tickets == 1 and report.left_out == 1


def test_a_running_clock_before_its_deadline_is_not_judged():
    report = compute_stats([ticket("A", "P2")], SlaPolicy(), T0 + timedelta(hours=1))
    assert report.rows[1].first_response_sla.total == 0


def test_text_json_and_csv():
    tickets = [ticket("A", response=30, resolved=600, released=700, state=TicketState.CLOSED, name="Closed"),
               ticket("B", "P2", response=10)]
    report = compute_stats(tickets, SlaPolicy(), NOW)
    text = format_text(report)
    assert "Tickets filed all time: 2" in text
    assert "P1/P2 tickets resolved without a root cause filled in:" in text
    assert "A" in text and "(the tracker shows no description to check)" in text
    assert "fix 10h / 10h, deploy 1h 40m / 1h 40m" in text
    data = json.loads(json.dumps(report.to_json()))
    p1 = data["priorities"][0]
    assert p1["first_response"] == {"count": 1, "median_seconds": 1800.0, "p90_seconds": 1800.0}
    assert p1["first_response_sla"] == {"hits": 1, "total": 1, "rate": 1.0}
    assert data["resolved_without_root_cause"][0]["ticket"] == "A"
    rows = list(csv.DictReader(io.StringIO(format_csv(report))))
    assert [r["priority"] for r in rows] == ["P1", "P2", "P3", "P4", "all"]
    assert rows[0]["resolution_median_seconds"] == "36000" and rows[2]["resolution_median_seconds"] == ""
