"""The report as data: typed, JSON-round-trippable, free of Qt and of any tracker.

Every persisted enumeration is a stable string id (never an ordinal), so bundles written by
one version are read by the next.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from reporter_app.clock import parse_utc_iso, utc_iso

SCHEMA_VERSION = 1


class Impact(StrEnum):
    """The reporter's view of how bad it is, asked in plain words."""

    BLOCKER = "blocker"
    MAJOR = "major"
    MINOR = "minor"
    COSMETIC = "cosmetic"

    @property
    def plain_words(self) -> str:
        return IMPACT_WORDS[self]


IMPACT_WORDS = {
    Impact.BLOCKER: "I can't continue",
    Impact.MAJOR: "Works with a workaround",
    Impact.MINOR: "Annoying, not blocking",
    Impact.COSMETIC: "Looks wrong or a suggestion",
}


class Reach(StrEnum):
    JUST_ME = "just_me"
    MY_TEAM = "my_team"
    MANY_USERS = "many_users"

    @property
    def plain_words(self) -> str:
        return REACH_WORDS[self]


REACH_WORDS = {
    Reach.JUST_ME: "Just me",
    Reach.MY_TEAM: "My team",
    Reach.MANY_USERS: "Many users",
}


class Priority(StrEnum):
    """Engineering's priority: suggested by rules, set only by roles allowed to triage."""

    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"


class Role(StrEnum):
    QA = "qa"
    STAKEHOLDER = "stakeholder"
    SUPPORT = "support"

    @property
    def may_triage(self) -> bool:
        return self in (Role.QA, Role.SUPPORT)


@dataclass(frozen=True)
class Reporter:
    name: str = ""
    email: str = ""
    role: Role = Role.QA


@dataclass(frozen=True)
class Attachment:
    """A file inside the bundle directory, named by its path relative to the bundle."""

    path: str
    kind: str  # "screenshot" | "log" | "file" | "replay" | "activity"
    content_type: str
    size: int
    sha256: str
    note: str = ""  # e.g. "trimmed: first 1200 lines dropped to fit 5 MB"


@dataclass
class Report:
    title: str
    description: str = ""
    expected: str = ""
    steps: str = ""
    impact: Impact = Impact.MINOR
    reach: Reach = Reach.JUST_ME
    priority: Priority = Priority.P3
    priority_reason: str = ""
    component: str = ""
    users_affected: int | None = None
    money_lost: bool = False
    reporter: Reporter = field(default_factory=Reporter)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    # Recorded in the ticket so a retry after a crash finds the ticket instead of filing twice.
    idempotency_key: str = ""
    fingerprint: str = ""
    # With a fingerprint: merge into the ticket of the same root cause (a "+1") instead of a new ticket.
    merge_duplicates: bool = True
    # This installation's random id (detect/dedup.py installation_id; never a hardware or user identifier), so a
    # ticket can say how many distinct machines reported it. "" in bundles written before it existed.
    installation_id: str = ""
    created_at: datetime | None = None
    app_version: str = ""
    system: dict[str, Any] = field(default_factory=dict)
    activity: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    # Redactions applied before anything touched disk, counted per kind ("github-token": 2).
    redactions: dict[str, int] = field(default_factory=dict)
    # A collector that failed says why here; the report still goes out (like apport's HookError_*).
    collector_errors: dict[str, str] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        if not self.idempotency_key:
            self.idempotency_key = f"ra-{self.id}"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["created_at"] = utc_iso(self.created_at) if self.created_at else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Report:
        """Raises ValueError/KeyError/TypeError on malformed input; callers wrap it with the file name."""
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise ValueError(f"unsupported schema_version {version!r} (this version reads {SCHEMA_VERSION})")
        values = dict(data)
        values["impact"] = Impact(values["impact"])
        values["reach"] = Reach(values["reach"])
        values["priority"] = Priority(values["priority"])
        reporter = dict(values.get("reporter") or {})
        reporter["role"] = Role(reporter.get("role", Role.QA))
        values["reporter"] = Reporter(**reporter)
        values["attachments"] = [Attachment(**a) for a in values.get("attachments") or []]
        created = values.get("created_at")
        values["created_at"] = parse_utc_iso(created) if created else None
        if not isinstance(values.get("title"), str):
            raise ValueError("title must be a string")
        if not isinstance(values.get("installation_id", ""), str):
            raise ValueError("installation_id must be a string")
        return cls(**values)
