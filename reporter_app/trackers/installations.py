"""How many distinct installations (machines) have reported one ticket: the marker each report leaves, and the count.

Every report carries its installation's random id (``Report.installation_id``, made once per data dir by
``detect.dedup.installation_id``; never a hardware or user identifier). The ticket does not show that id but a
*tag* derived from it and the report's fingerprint:

    reporter-app installation: 3f2a9c0d1e2b4a5c

One installation gives all its reports of one root cause the same tag, so tags can be counted per ticket; its tags
on two different tickets differ, so a public tracker (a GitHub repository) cannot link one machine's tickets.
The line sits next to the key marker: a hidden HTML comment on GitHub/GitLab, a plain line in Redmine and Jira.

:func:`count_installations` reads the tags back from a ticket's description and notes. What it cannot see (notes
written before this line existed, notes past what the tracker lists) makes the count a lower bound, said as
"at least N", never a guess.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from reporter_app.model import Report

INSTALLATION_LINE = "reporter-app installation: "
TAG_HEX = 16  # 64 bits: collisions are negligible for counting, and the line stays short
_TAG = re.compile(r"reporter-app installation: ([0-9a-f]{16})(?![0-9a-f])")
# Every backend's key and occurrence markers contain one of these: an entry with one is a report (the ticket's
# description or one of our "+1" notes); anything else is a person's comment and says nothing about machines.
_REPORT_MARKERS = ("reporter-app key: ", "reporter-app occurrence: ")


def installation_tag(installation_id: str, fingerprint: str) -> str:
    """The ticket-side tag of one installation for one root cause; "" when the report has no installation id."""
    if not installation_id:
        return ""
    # The domain prefix keeps these hashes from matching any other sha256 of the same id.
    seed = f"reporter-app installation\0{installation_id}\0{fingerprint}".encode()
    return hashlib.sha256(seed).hexdigest()[:TAG_HEX]


def report_tag(report: Report) -> str:
    return installation_tag(report.installation_id, report.fingerprint)


def installation_line(report: Report) -> str:
    """The marker line for `report` ("reporter-app installation: <tag>"), "" when it has no installation id."""
    tag = report_tag(report)
    return f"{INSTALLATION_LINE}{tag}" if tag else ""


def tags_in(text: str) -> set[str]:
    return set(_TAG.findall(text or ""))


def is_report_entry(text: str) -> bool:
    return any(marker in (text or "") for marker in _REPORT_MARKERS)


@dataclass(frozen=True)
class InstallationCount:
    """Distinct installations seen on a ticket. `exact` is False when some report on it could not be attributed."""

    seen: int
    exact: bool = True

    @property
    def words(self) -> str:
        if self.exact:
            return str(self.seen)
        # A ticket with an unattributed report was reported by at least one installation.
        return f"at least {max(self.seen, 1)}"

    @property
    def line(self) -> str:
        """What an occurrence note says; the count of the backends' notes, in every vendor's format."""
        why = "" if self.exact else " (some earlier reports carry no installation id)"
        return f"Distinct installations reporting it: {self.words}{why}."

    @property
    def machines(self) -> str:
        """For My reports: "on 2 machines", "on at least 2 machines"; "" when nothing is known."""
        if self.exact and self.seen == 0:
            return ""
        plural = "s" if max(self.seen, 1) > 1 else ""
        return f"on {self.words} machine{plural}"

    @classmethod
    def of(cls, tags: Iterable[str], unattributed: bool = False) -> InstallationCount:
        return cls(seen=len({t for t in tags if t}), exact=not unattributed)


def count_installations(entries: Iterable[str], own: str | None = None, all_read: bool = True) -> InstallationCount:
    """Distinct installation tags in a ticket's description and notes (`entries`, any order, in any backend's
    text format), plus `own`, the tag of the report about to be added.

    `own`: None when there is no such report (statuses); "" when it has no installation id (a bundle written by an
    older version), which makes the count a lower bound. `all_read`: False when the tracker listed only part of the
    notes. A report entry without a tag (a ticket or note from before this marker existed) also makes it a lower
    bound; a retried or repeated note of one installation counts once.
    """
    tags: set[str] = set()
    unattributed = own == "" or not all_read
    for text in entries:
        found = tags_in(text)
        tags |= found
        if not found and is_report_entry(text):
            unattributed = True
    if own:
        tags.add(own)
    return InstallationCount.of(tags, unattributed)
