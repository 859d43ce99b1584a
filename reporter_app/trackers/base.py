"""The contract every tracker backend fulfils: a few verbs, settings as data, errors by next step.

Error tree (what the outbox does next):

    TrackerError
    ├── TransientError      retry later: network, timeouts, 5xx, 429 (retry_after honoured)
    ├── CredentialsError    needs attention: 401/403, missing token; the user fixes credentials
    └── RefusedError        needs attention: the tracker refused this report (4xx), its message shown

Nothing is dropped on any of them: the report stays in the outbox.
"""

from __future__ import annotations

import functools
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from reporter_app.config.options import Option

if TYPE_CHECKING:
    from reporter_app.bundle import Bundle
    from reporter_app.model import Report


class TrackerError(Exception):
    """Base of all backend failures; `message` is what the tracker (or network) said."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TransientError(TrackerError):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class CredentialsError(TrackerError):
    pass


class RefusedError(TrackerError):
    pass


class TicketState(StrEnum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"


@dataclass(frozen=True)
class TicketRef:
    backend: str
    key: str  # what people say: "LOCAL-3", "#42", "APP-7"
    url: str = ""


@dataclass(frozen=True)
class Comment:
    id: str
    author: str
    body: str
    created_at: datetime | None = None


@dataclass
class TicketStatus:
    ref: TicketRef
    state: TicketState
    status_name: str  # the tracker's own word for it
    assignee: str = ""
    comments: list[Comment] = field(default_factory=list)
    fixed_in: str = ""
    updated_at: datetime | None = None
    title: str = ""
    priority: str = ""
    occurrences: int = 1
    # For the SLA clock of tickets followed by key, and for reading back the post-incident sections.
    description: str = ""
    created_at: datetime | None = None
    # Distinct installations among the ticket's reports (trackers/installations.py); 0: not known. Not exact when
    # some reports on it carry no installation marker (older versions): then it is a lower bound.
    installations: int = 0
    installations_exact: bool = True

    @property
    def occurrence_summary(self) -> str:
        """"3 occurrences on 2 machines" for My reports; "" for a lone report, where it would only be noise."""
        from reporter_app.trackers.installations import InstallationCount

        if self.occurrences <= 1:
            return ""
        count = InstallationCount(self.installations, self.installations_exact)
        words = f"{self.occurrences} occurrence{'s' if self.occurrences != 1 else ''}"
        return f"{words} {count.machines}".strip()


@dataclass(frozen=True)
class Limits:
    """What the tracker accepts; None means no known limit."""

    max_attachment_bytes: int | None = None
    max_title_chars: int | None = None
    max_description_chars: int | None = None


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class TrackerContext:
    """What a backend is built from: its settings, its secret, and injected collaborators."""

    settings: Mapping[str, Any]
    data_dir: Path
    token: str | None = None
    session: Any = None  # requests.Session for HTTP backends
    clock: Any = None


log = logging.getLogger(__name__)

# The verbs whose answers come from a remote server, and what reading an answer of the wrong shape raises
# ({"issues": "x"}, a list where an object was expected, a missing id, an unparseable date...).
_REMOTE_VERBS = ("check", "find", "create", "add_occurrence", "statuses", "comment")
_UNREADABLE = (KeyError, IndexError, TypeError, AttributeError, ValueError)


def _unreadable_answers_refused(method: Callable[..., Any]) -> Callable[..., Any]:
    """A server answer the parser cannot read becomes RefusedError (needs attention, nothing lost), not a crash of
    the outbox worker: every backend parses dozens of fields and a proxy or a new server version can break any."""
    @functools.wraps(method)
    def guarded(self: Tracker, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except TrackerError:
            raise
        except _UNREADABLE as exc:
            log.info("%s.%s could not read the answer", type(self).__name__, method.__name__, exc_info=True)
            raise RefusedError(f"the {self.name} tracker answered something reporter-app cannot read "
                               f"({type(exc).__name__}: {exc})") from exc
    guarded.__dict__["_unreadable_guard"] = True
    return guarded


class Tracker(ABC):
    name: ClassVar[str]
    # Declared once; the config loader validates [tracker] against these, the settings dialog shows them.
    options: ClassVar[tuple[Option, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for verb in _REMOTE_VERBS:
            method = cls.__dict__.get(verb)
            if callable(method) and not getattr(method, "_unreadable_guard", False):
                setattr(cls, verb, _unreadable_answers_refused(method))

    @abstractmethod
    def check(self) -> list[CheckResult]:
        """Doctor: reachable, credentials, project, fields. Never raises for an expected failure."""

    @abstractmethod
    def limits(self) -> Limits: ...

    @abstractmethod
    def find(self, key: str) -> TicketRef | None:
        """The ticket carrying this idempotency key or fingerprint, if any."""

    @abstractmethod
    def create(self, report: Report, bundle: Bundle) -> TicketRef: ...

    @abstractmethod
    def add_occurrence(self, ref: TicketRef, report: Report, bundle: Bundle) -> None:
        """The "+1" for a duplicate of an existing ticket."""

    @abstractmethod
    def statuses(self, refs: Iterable[TicketRef]) -> dict[str, TicketStatus]:
        """Keyed by TicketRef.key; a ticket the tracker no longer knows is left out."""

    def comment(self, ref: TicketRef, text: str, author: str = "") -> None:
        """"Add information" from My reports. Backends that can take comments override this."""
        raise RefusedError(f"the {self.name} tracker does not take comments from reporter-app")
