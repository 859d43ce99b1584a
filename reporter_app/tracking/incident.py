"""Post-incident review: the sections a P1/P2 ticket is filed with, and reading "Root cause" back.

The empty sections carry a visible placeholder rather than nothing: `render.plain_sections`
drops empty bodies, and an engineer should see what is expected of them. A section whose body
is only the placeholder (or "TBD", "n/a", ...) counts as not filled in.
"""

from __future__ import annotations

import re

from reporter_app.model import Priority, Report
from reporter_app.trackers.base import TicketStatus

INCIDENT_PRIORITIES = (Priority.P1, Priority.P2)
ROOT_CAUSE = "Root cause"
PREVENTION = "Prevention"
PLACEHOLDER = "(to be filled in at the incident review)"
_NOT_FILLED = {"", PLACEHOLDER.casefold(), "tbd", "todo", "n/a", "na", "-", "?", "unknown", "..."}

# A heading in the markups our trackers use: Markdown "## X", Textile/Jira "h2. X", bold "**X**" / "*X*", "X:".
_HEADING = re.compile(
    r"^[ \t]*(?:#{1,6}[ \t]+(?P<md>[^\n#]+?)[ \t#]*"
    r"|h[1-6]\.[ \t]+(?P<textile>[^\n]+?)"
    r"|\*{1,2}(?P<bold>[^*\n]+?):?\*{1,2}:?"
    r"|(?P<colon>[A-Z][^\n:]{0,40}):)[ \t]*$",
    re.MULTILINE,
)
# "Root cause: the cache expired" on one line.
_INLINE_ROOT_CAUSE = re.compile(r"^[ \t]*\**root cause\**[ \t]*:\**[ \t]*(\S[^\n]*)$", re.IGNORECASE | re.MULTILINE)


def incident_sections(report: Report, *, users_affected: int | None = None,
                      money_lost: bool = False) -> list[tuple[str, str]]:
    """Extra (heading, body) sections for a P1/P2 report; [] for P3/P4.

    Meant to be appended to `render.plain_sections(report)`. What the reporter told us is
    prefilled; the review's sections are left for engineering.
    """
    if report.priority not in INCIDENT_PRIORITIES:
        return []
    noticed = report.created_at.strftime("%Y-%m-%d %H:%M UTC") if report.created_at else "(not recorded)"
    who = report.reach.plain_words
    if users_affected is not None:
        who += f", about {users_affected} user(s)"
    business = report.impact.plain_words + ("; money is being lost" if money_lost else "")
    if report.priority_reason:
        business += f" ({report.priority_reason})"
    incident = "\n".join((
        f"When noticed: {noticed}",
        f"Who is affected, how many: {who}",
        f"Business impact: {business}",
    ))
    return [("Incident", incident), (ROOT_CAUSE, PLACEHOLDER), (PREVENTION, PLACEHOLDER)]


def section_body(text: str, heading: str) -> str | None:
    """The body under the last `heading` in `text` (up to the next heading); None if there is none."""
    found: str | None = None
    matches = list(_HEADING.finditer(text))
    for n, match in enumerate(matches):
        title = next(g for g in match.groups() if g is not None)
        if title.strip().rstrip(":").strip().casefold() != heading.casefold():
            continue
        end = matches[n + 1].start() if n + 1 < len(matches) else len(text)
        found = text[match.end():end].strip()
    return found


def is_filled(body: str | None) -> bool:
    if body is None:
        return False
    return body.strip().strip("_*").strip().casefold() not in _NOT_FILLED


def root_cause_filled(status: TicketStatus) -> bool | None:
    """Whether the ticket now says what the root cause was.

    A comment with a filled "Root cause" section counts (engineers often answer there instead of
    editing the description). None when the tracker shows neither a description nor any
    "Root cause" heading: then we cannot tell, and `stats` says so instead of accusing.
    """
    description = status.description or ""
    texts = [description, *(c.body for c in status.comments)]
    bodies = [section_body(t, ROOT_CAUSE) for t in texts if t]
    inline = [m.group(1) for t in texts for m in _INLINE_ROOT_CAUSE.finditer(t)]
    if any(is_filled(b) for b in [*bodies, *inline]):
        return True
    if description or any(b is not None for b in bodies):
        return False
    return None
