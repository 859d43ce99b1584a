"""Ticket text in Markdown for GitHub and GitLab: the report's sections, evidence links, log excerpts.

The ticket's identity travels as hidden HTML comments that both renderers drop from view:

    <!-- reporter-app installation: <16hex> -->                      just above either of these
    <!-- reporter-app key: ra-<id> fingerprint: brfp-<12hex> -->     last line of an issue body
    <!-- reporter-app occurrence: ra-<id> -->                         last line of a "+1" comment

`find()` and the idempotent `add_occurrence()` look for exactly these lines, and the count of distinct
installations (trackers/installations.py) for the first; keep their wording stable.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reporter_app.clock import utc_iso
from reporter_app.model import Report
from reporter_app.render import plain_sections
from reporter_app.trackers.fitting import Upload, human_size
from reporter_app.trackers.installations import InstallationCount, installation_line

KEY_PREFIX = "<!-- reporter-app key: "
OCCURRENCE_PREFIX = "<!-- reporter-app occurrence: "
# Machine-made sections keep their line layout.
PREFORMATTED = {"System", "Not collected", "Attachment notes"}
MAX_TITLE = 255  # GitHub and GitLab both cut titles at 255 characters
EXCERPT_MAX_LINES = 40
MAX_OCCURRENCE_EXCERPT = 600


def key_marker(key: str, fingerprint: str = "") -> str:
    return f"{KEY_PREFIX}{key}" + (f" fingerprint: {fingerprint}" if fingerprint else "") + " -->"


def occurrence_marker(key: str) -> str:
    return f"{OCCURRENCE_PREFIX}{key} -->"


def markers(report: Report, last: str) -> str:
    """The hidden marker lines that end a body: the installation's (when known), then `last`."""
    line = installation_line(report)
    return (f"<!-- {line} -->\n" if line else "") + last


_KEY_LINE = re.compile(r"<!-- reporter-app key: (\S+)(?: fingerprint: (\S+))? -->")


def body_has_key(body: str, key: str) -> bool:
    """True when `key` is the ticket's idempotency key or fingerprint, as written by key_marker()."""
    return any(key in (m.group(1), m.group(2)) for m in _KEY_LINE.finditer(body or ""))


def has_occurrence(body: str, key: str) -> bool:
    return occurrence_marker(key) in (body or "")


def is_ours(body: str) -> bool:
    """A comment written by reporter-app itself (an occurrence), not by a person."""
    return OCCURRENCE_PREFIX in (body or "")


def title(report: Report) -> str:
    text = " ".join(report.title.split())
    if not text:
        lines = report.description.strip().splitlines()
        text = " ".join(lines[0].split()) if lines else "Bug report"
    return text if len(text) <= MAX_TITLE else text[:MAX_TITLE - 3].rstrip() + "..."


def fenced(text: str, info: str = "") -> str:
    """A code fence longer than any backtick run inside, so a log cannot close it early."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{text.rstrip()}\n{fence}"


@dataclass(frozen=True)
class Excerpt:
    """The newest lines of a log, shown collapsed in the ticket so it reads well without a click."""

    name: str
    text: str
    lines: int
    total_lines: int


def log_excerpts(uploads: Sequence[Upload], max_lines: int = EXCERPT_MAX_LINES) -> list[Excerpt]:
    out: list[Excerpt] = []
    for upload in uploads:
        if upload.attachment.kind != "log" and not upload.content_type.startswith("text/"):
            continue
        text = upload.data.decode("utf-8", errors="replace")
        lines = text.splitlines()
        tail = lines[-max_lines:] if max_lines > 0 else []
        if tail:
            out.append(Excerpt(upload.filename, "\n".join(tail), len(tail), len(lines)))
    return out


def _details(excerpt: Excerpt) -> str:
    what = f"last {excerpt.lines} of {excerpt.total_lines} lines" if excerpt.lines < excerpt.total_lines \
        else f"{excerpt.lines} lines"
    # The blank lines around the fence are what makes GitHub/GitLab render Markdown inside <details>.
    return f"<details><summary>{excerpt.name} ({what})</summary>\n\n{fenced(excerpt.text, 'text')}\n\n</details>"


def _link(upload: Upload, url: str) -> str:
    label = upload.filename.replace("[", "(").replace("]", ")")
    return f"[{label}]({url.replace(' ', '%20').replace(')', '%29')})"


def evidence(uploads: Sequence[Upload], links: Mapping[str, str], notes: Sequence[str],
             excerpts: Sequence[Excerpt], inline_screenshot: bool = True) -> list[str]:
    """Screenshot inline, one line per linked file, collapsed log excerpts, and what was changed."""
    blocks: list[str] = []
    linked = [u for u in uploads if u.filename in links]
    shots = [u for u in linked if u.attachment.kind == "screenshot" and u.content_type.startswith("image/")]
    if inline_screenshot and shots:
        blocks.append("### Screenshot\n\n!" + _link(shots[0], links[shots[0].filename]))
    if linked:
        blocks.append("### Attachments\n\n" + "\n".join(
            f"- {_link(u, links[u.filename])} ({u.attachment.kind}, {human_size(len(u.data))})" for u in linked))
    if excerpts:
        blocks.append("### Log excerpts\n\n" + "\n\n".join(_details(e) for e in excerpts))
    if notes:
        # Never a silent loss: whatever was trimmed, shrunk or left out is named in the ticket.
        blocks.append("### Changed to fit the tracker\n\n" + "\n".join(f"- {n}" for n in notes))
    return blocks


def issue_body(report: Report, uploads: Sequence[Upload], links: Mapping[str, str], notes: Sequence[str],
               max_chars: int, excerpt_lines: int = EXCERPT_MAX_LINES) -> str:
    """The issue body, within max_chars: excerpts shrink first, then the sections are cut (with a note)."""
    sections = [f"### {h}\n\n" + (fenced(b.strip()) if h in PREFORMATTED else b.strip())
                for h, b in plain_sections(report)]
    footer = markers(report, key_marker(report.idempotency_key, report.fingerprint))
    lines = excerpt_lines
    while True:
        excerpts = log_excerpts(uploads, lines)
        body = "\n\n".join([*sections, *evidence(uploads, links, notes, excerpts), footer]) + "\n"
        if len(body) <= max_chars or lines == 0:
            break
        lines = lines // 2 if lines > 4 else 0
    if len(body) > max_chars:
        cut = "\n\n_[reporter-app: the description was cut here to fit the tracker's limit; " \
              "the full text is in the attached report]_\n\n"
        keep = max_chars - len(cut) - len(footer) - 1
        body = body[:max(keep, 0)] + cut + footer + "\n"
    return body


def occurrence_body(report: Report, uploads: Sequence[Upload], links: Mapping[str, str], notes: Sequence[str],
                    when: datetime, installations: InstallationCount | None = None) -> str:
    """A "+1" comment: who, when, what they saw, how many machines; carries the duplicate's own key for
    idempotency and its installation's tag for the next count."""
    who = report.reporter.name or "someone"
    role = f" ({report.reporter.role.value})" if report.reporter.name else ""
    blocks = [f"**+1 occurrence**: reported again by {who}{role} at {utc_iso(report.created_at or when)}"]
    if installations is not None:
        blocks.append(installations.line)
    if report.title:
        blocks.append(f"Title: {report.title}")
    text = report.description.strip()
    if text:
        blocks.append(text[:MAX_OCCURRENCE_EXCERPT] + ("..." if len(text) > MAX_OCCURRENCE_EXCERPT else ""))
    blocks.append(f"Impact: {report.impact.plain_words}; affects: {report.reach.plain_words}")
    blocks.extend(evidence(uploads, links, notes, log_excerpts(uploads, 20), inline_screenshot=False))
    blocks.append(markers(report, occurrence_marker(report.idempotency_key)))
    return "\n\n".join(blocks) + "\n"


def string_list(value: object) -> list[str]:
    """A list setting (or a comma-separated string) without blanks."""
    if isinstance(value, str):
        items: list[object] = list(value.split(","))
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        return []
    return [text for text in (str(v).strip() for v in items) if text]


def classification_labels(report: Report) -> list[str]:
    """The priority and the reporter's impact, reach and component as labels, for trackers whose issues have no
    fields for them (GitHub, GitLab): engineers filter by them, and the poller reads the priority back."""
    labels = [report.priority.value, f"impact-{report.impact.value}", f"reach-{report.reach.value}"]
    if report.component:
        labels.append(f"component-{report.component}")
    return labels


def newest_issue_with_key(list_page: Callable[[dict[str, Any], int], list[dict[str, Any]] | None],
                          labels: Sequence[str], scan_limit: int, page_size: int,
                          body_of: Callable[[dict[str, Any]], str | None], key: str) -> dict[str, Any] | None:
    """The newest issue whose body carries `key`'s hidden marker: listing (strongly consistent), never search.

    First the issues with our first label (up to `scan_limit`), then one unfiltered page of the newest: the label can
    be dropped silently (GitHub without push access, a GitLab Guest). `body_of` returns None for what is not an issue.
    """
    scans: list[tuple[dict[str, Any], int]] = []
    if labels:
        scans.append(({"labels": labels[0]}, max(scan_limit // page_size, 1)))
    scans.append(({}, 1))
    for extra, pages in scans:
        for page in range(1, pages + 1):
            issues = list_page(extra, page) or []
            for issue in issues:
                body = body_of(issue)
                if body is not None and body_has_key(body, key):
                    return issue
            if len(issues) < page_size:
                break
    return None
