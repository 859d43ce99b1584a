"""Following filed tickets: what changed, when it is due, how the team is doing.

    store.py           the followed tickets and their last-seen snapshot (SQLite, WAL, own file)
    changes.py         a snapshot of a ticket and the diff between two of them (pure)
    cadence.py         when a ticket is next looked at (pure)
    poller.py          Poller.poll_due(): batched statuses() per backend, diff, persist, return
    notify.py          changes grouped into tray notices (pure)
    business_hours.py  the optional business-hours calendar behind "2bd" targets
    sla.py             targets per priority, "due in" / "breached"
    stats.py           `reporter-app stats`: medians, p90, compliance, reopen rate
    incident.py        the post-incident sections of P1/P2 reports, and reading "Root cause" back
    service.py         the above wired from an AppContext (for the CLI and the UI worker)
    commands.py        `stats`, `follow`, and the SLA columns of `status`

No Qt here: the UI runs `Tracking.poll()` on a worker and shows `group_notices(...)` on the GUI thread.
"""
