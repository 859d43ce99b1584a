"""`reporter-app doctor` for Redmine: one line per thing that can be wrong, in the order a user fixes them.

A check that the rest depends on (reachable + key, then project) ends the list when it fails,
so a wrong key or URL gives one clear line instead of a cascade of follow-up failures.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reporter_app.trackers.base import CheckResult, TrackerError
from reporter_app.trackers.redmine_meta import (
    FIELD_SETTINGS,
    Metadata,
    closest_hint,
    current_user,
    custom_field_details,
    named_ids,
    priorities,
    project_info,
    statuses,
)

if TYPE_CHECKING:
    from reporter_app.trackers.redmine import RedmineTracker


def run_checks(tracker: RedmineTracker) -> list[CheckResult]:
    if not tracker.token:
        return [CheckResult("redmine", False, "no API key: run `reporter-app login` (or set "
                                              "REPORTER_APP_TRACKER_TOKEN); it is under My account -> API access key")]
    http = tracker.http
    try:
        user = current_user(http)
    except TrackerError as exc:
        return [CheckResult("redmine", False, exc.message)]
    results = [CheckResult("redmine", True, f"{tracker.base_url} answers; signed in as {user.get('login', '?')}")]
    try:
        info = project_info(http, tracker.project)
    except TrackerError as exc:
        return [*results, CheckResult("redmine project", False, exc.message)]
    results.append(CheckResult("redmine project", True, f"{tracker.project!r} ({info.get('name', '')})"))
    try:
        meta = tracker.metadata(refresh=True)
        # Also fetched by metadata(); repeated here so a failure names the lookup that failed.
        priority_ids, _ = priorities(http), statuses(http)
        details = custom_field_details(http)
    except TrackerError as exc:
        return [*results, CheckResult("redmine metadata", False, exc.message)]
    results.append(_tracker_line(tracker, named_ids(info.get("trackers") or [])))
    results.append(_priorities_line(tracker, priority_ids))
    results.append(_fields_line(tracker, meta, details))
    return results


def _tracker_line(tracker: RedmineTracker, trackers: dict[str, int]) -> CheckResult:
    if tracker.tracker_name in trackers:
        return CheckResult("redmine tracker", True, f"{tracker.tracker_name!r} is enabled in {tracker.project!r}")
    return CheckResult("redmine tracker", False, f"tracker.tracker_name {tracker.tracker_name!r} is not enabled in "
                       f"project {tracker.project!r}{closest_hint(tracker.tracker_name, trackers)}")


def _priorities_line(tracker: RedmineTracker, priority_ids: dict[str, int]) -> CheckResult:
    missing = [f"{p}={name!r}" for p, name in sorted(tracker.priority_map.items()) if name not in priority_ids]
    if missing:
        first = [name for p, name in sorted(tracker.priority_map.items()) if name not in priority_ids][0]
        return CheckResult("redmine priorities", False, f"tracker.priority_map: no active Redmine priority named "
                           f"{', '.join(missing)}{closest_hint(first, priority_ids)}")
    mapped = ", ".join(f"{p}={name}" for p, name in sorted(tracker.priority_map.items()))
    return CheckResult("redmine priorities", True, mapped or "none mapped: Redmine's default priority")


def _fields_line(tracker: RedmineTracker, meta: Metadata, details: dict[int, dict[str, object]]) -> CheckResult:
    problems: list[str] = []
    found: list[str] = []
    for role, (setting, _) in FIELD_SETTINGS.items():
        name = meta.field_names.get(role, "")
        if not name:
            found.append(f"{role} in the description")
            continue
        field_id = meta.fields.get(name)
        if field_id is None:
            problems.append(f"tracker.{setting} {name!r} is not a custom field of project {tracker.project!r}"
                            f"{closest_hint(name, meta.fields)}; add it to the project or set "
                            f"tracker.{setting} = \"\"")
            continue
        found.append(f"{role}={name!r} (#{field_id})")
        info = details.get(field_id)
        if role in ("idempotency_key", "fingerprint") and info is not None and not info.get("is_filter"):
            problems.append(f"custom field {name!r} is not 'Used as a filter': reporter-app cannot look tickets "
                            "up by it (Administration -> Custom fields)")
    for name in tracker.fixed_fields:
        if name not in meta.fields:
            problems.append(f"tracker.fixed_fields: {name!r} is not a custom field of project "
                            f"{tracker.project!r}{closest_hint(name, meta.fields)}")
    if problems:
        return CheckResult("redmine fields", False, "; ".join(problems))
    note = "" if details else " (filter flags not checked: that needs an admin key)"
    return CheckResult("redmine fields", True, ", ".join(found) + note)
