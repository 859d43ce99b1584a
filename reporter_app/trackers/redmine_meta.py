"""What a Redmine installation calls things: ids of trackers, priorities, statuses and custom fields by name.

Each lookup is its own function so `check()` can run them one at a time and say which failed.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from reporter_app.trackers.base import RefusedError, TrackerError
from reporter_app.trackers.http import HttpClient, http_status

# role -> (setting, default custom field name)
FIELD_SETTINGS: dict[str, tuple[str, str]] = {
    "impact": ("impact_field", "impact"),
    "reach": ("reach_field", "reach"),
    "fingerprint": ("fingerprint_field", "fingerprint"),
    "idempotency_key": ("idempotency_field", "idempotency_key"),
}


@dataclass(frozen=True)
class StatusInfo:
    name: str
    is_closed: bool


@dataclass
class Metadata:
    project_id: int
    project_name: str
    user_id: int
    user_name: str
    trackers: dict[str, int]  # enabled in the project
    tracker_id: int | None  # the configured tracker's, None when the project lacks it (Redmine's default)
    priorities: dict[str, int]  # active ones
    statuses: dict[int, StatusInfo]
    fields: dict[str, int]  # issue custom fields available in the project, by name
    field_names: dict[str, str]  # role -> configured name ("" = not used)
    field_info: dict[int, dict[str, Any]]  # /custom_fields.json details; empty without an admin key
    categories: dict[str, int] | None = None  # loaded on first use

    def field_id(self, role: str) -> int | None:
        name = self.field_names.get(role, "")
        return self.fields.get(name) if name else None

    @property
    def filterable(self) -> dict[int, bool]:
        return {fid: bool(info.get("is_filter")) for fid, info in self.field_info.items()}

    def field_value(self, field_id: int, value: str, alternatives: Iterable[str] = ()) -> str:
        """For a list field, the allowed value that matches `value` (or an alternative wording)."""
        info = self.field_info.get(field_id) or {}
        allowed = [str(v.get("value")) for v in info.get("possible_values") or [] if isinstance(v, dict)]
        if not allowed:
            return value
        by_lower = {a.lower(): a for a in allowed}
        for candidate in (value, *alternatives):
            if candidate.lower() in by_lower:
                return by_lower[candidate.lower()]
        return value  # Redmine answers 422 "... is not included in the list": shown to the user as is


def closest_hint(name: str, known: Iterable[str]) -> str:
    known = sorted(known)
    match = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f" (did you mean {match[0]!r}?)" if match else ""
    listing = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
    return hint + (f"; known: {listing}" if known else "")


def current_user(http: HttpClient) -> dict[str, Any]:
    data = http.json("GET", "/users/current.json")
    user = (data or {}).get("user")
    if not isinstance(user, dict) or "id" not in user:
        raise RefusedError(f"{http.service} answered /users/current.json without a user: is tracker.url a Redmine?")
    return user


def project_info(http: HttpClient, project: str) -> dict[str, Any]:
    try:
        data = http.json("GET", f"/projects/{quote(project, safe='')}.json",
                         params={"include": "trackers,issue_custom_fields"})
    except TrackerError as exc:
        if http_status(exc) in (403, 404):
            raise RefusedError(f"{http.service} has no project {project!r}, or the key's user is not a member of it "
                               f"({http_status(exc)}): check tracker.project (the identifier in the project's URL)") \
                from exc
        raise
    info = (data or {}).get("project")
    if not isinstance(info, dict):
        raise RefusedError(f"{http.service} answered without project {project!r}")
    return info


def named_ids(items: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    return {str(item["name"]): int(item["id"]) for item in items if "name" in item and "id" in item}


def priorities(http: HttpClient) -> dict[str, int]:
    data = http.json("GET", "/enumerations/issue_priorities.json")
    return named_ids(p for p in (data or {}).get("issue_priorities") or [] if p.get("active", True))


def statuses(http: HttpClient) -> dict[int, StatusInfo]:
    data = http.json("GET", "/issue_statuses.json")
    return {int(s["id"]): StatusInfo(str(s["name"]), bool(s.get("is_closed")))
            for s in (data or {}).get("issue_statuses") or []}


def custom_field_details(http: HttpClient) -> dict[int, dict[str, Any]]:
    """/custom_fields.json answers only admins (403 otherwise): details are then unknown, not an error."""
    try:
        data = http.json("GET", "/custom_fields.json")
    except TrackerError as exc:
        if http_status(exc) in (401, 403, 404):
            return {}
        raise
    return {int(f["id"]): f for f in (data or {}).get("custom_fields") or []
            if f.get("customized_type") == "issue"}


def load_metadata(http: HttpClient, project: str, tracker_name: str, field_names: dict[str, str]) -> Metadata:
    user = current_user(http)
    info = project_info(http, project)
    trackers = named_ids(info.get("trackers") or [])
    return Metadata(
        project_id=int(info["id"]), project_name=str(info.get("name", project)),
        user_id=int(user["id"]), user_name=_user_name(user),
        trackers=trackers, tracker_id=trackers.get(tracker_name),
        priorities=priorities(http), statuses=statuses(http),
        fields=named_ids(info.get("issue_custom_fields") or []), field_names=dict(field_names),
        field_info=custom_field_details(http),
    )


def _user_name(user: Mapping[str, Any]) -> str:
    name = " ".join(str(user.get(k) or "") for k in ("firstname", "lastname")).strip()
    return name or str(user.get("login") or user.get("id"))
