"""Turn a Report into the text a careful human would have written in a ticket.

Backends use this for their description bodies so every tracker gets the same sections.
"""

from __future__ import annotations

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
    who = " ".join(p for p in (report.reporter.name, f"<{report.reporter.email}>" if report.reporter.email else "") if p)
    if who:
        sections.append(("Reported by", f"{who} ({report.reporter.role.value})"))
    if report.system:
        lines = [f"{k}: {v}" for k, v in sorted(report.system.items()) if not isinstance(v, (dict, list))]
        sections.append(("System", "\n".join(lines)))
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
