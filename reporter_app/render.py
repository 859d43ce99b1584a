"""Turn a Report into the text a careful human would have written in a ticket.

Backends use this for their description bodies so every tracker gets the same sections.
"""

from __future__ import annotations

from typing import Any

from reporter_app.model import Report


def plain_sections(report: Report) -> list[tuple[str, str]]:
    """(heading, body) pairs, empty ones left out; backends format them in their own markup."""
    sections: list[tuple[str, str]] = [
        ("What happened", report.description),
        ("What I expected", report.expected),
        ("Steps to reproduce", report.steps),
        ("Impact", f"{report.impact.plain_words} ({report.impact.value}); affects: {report.reach.plain_words}"),
        ("Priority", f"{report.priority.value}" + (f" ({report.priority_reason})" if report.priority_reason else "")),
    ]
    if report.component:
        sections.append(("Component", report.component))
    # P1/P2: the incident facts now, and empty Root cause / Prevention sections for the review.
    from reporter_app.tracking.incident import incident_sections

    sections += incident_sections(report, users_affected=report.users_affected, money_lost=report.money_lost)
    who = " ".join(p for p in (report.reporter.name, f"<{report.reporter.email}>" if report.reporter.email else "") if p)
    if who:
        sections.append(("Reported by", f"{who} ({report.reporter.role.value})"))
    if report.system:
        sections.append(("System", system_summary(report.system)))
    if report.redactions:
        total = sum(report.redactions.values())
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(report.redactions.items()))
        sections.append(("Privacy", f"{total} secret(s) removed before sending: {kinds}"))
    if report.collector_errors:
        sections.append(("Not collected", "\n".join(f"{k}: {v}" for k, v in sorted(report.collector_errors.items()))))
    notes = [f"{a.path}: {a.note}" for a in report.attachments if a.note]
    if notes:
        sections.append(("Attachment notes", "\n".join(notes)))
    return [(h, b) for h, b in sections if b and b.strip()]


def plain_text(report: Report) -> str:
    parts = [f"## {heading}\n{body.strip()}" for heading, body in plain_sections(report)]
    parts.append(f"reporter-app key: {report.idempotency_key}")
    return "\n\n".join(parts) + "\n"


def _gib(value: object) -> str:
    return f"{value / 2**30:.1f} GiB" if isinstance(value, (int, float)) else "?"


def system_summary(system: dict[str, Any]) -> str:
    """The few lines an engineer reads first; the full details travel in report.json."""
    os_ = system.get("os") or {}
    desk = system.get("desktop") or {}
    cpu = system.get("cpu") or {}
    mem = system.get("memory") or {}
    disk = system.get("disk") or {}
    loc = system.get("locale") or {}
    fg = system.get("foreground") or {}
    lines = [
        f"OS: {os_.get('name') or os_.get('system', '?')} (kernel {os_.get('kernel') or os_.get('release', '?')}, "
        f"{os_.get('machine', '?')})" if os_ else "",
        f"Desktop: {desk.get('desktop') or '-'} ({desk.get('session_type') or '-'})" if desk else "",
        f"CPU: {cpu.get('model', '?')}, {cpu.get('cores_logical', '?')} cores" if cpu else "",
        f"Memory: {_gib(mem.get('available'))} free of {_gib(mem.get('total'))}" if mem else "",
        f"Disk free (data dir): {_gib(disk.get('free'))}" if disk else "",
        f"Locale: {loc.get('locale', '?')}, time zone {loc.get('timezone', '?')}" if loc else "",
        f"Foreground app: {fg.get('process') or '?'} - {fg.get('title') or ''}" if fg else "",
        f"App version: {system['app_version']}" if system.get("app_version") else "",
    ]
    for screen in system.get("screens") or []:
        if isinstance(screen, dict):
            lines.append("Screen: " + ", ".join(f"{k}={v}" for k, v in screen.items()))
    return "\n".join(line for line in lines if line)
