"""What a Jira project accepts, read from the per-project createmeta and /field, and `doctor`'s checks of it.

Field ids differ per site (customfield_10050 here is customfield_10231 there) and screens differ per
project, so nothing is hard-coded: fields are found by name, and only fields on the create screen are
sent (anything else is a 400 "cannot be set. It is not on the appropriate screen").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reporter_app.trackers.base import CheckResult, RefusedError, TrackerError
from reporter_app.trackers.http import HttpClient, http_status

if TYPE_CHECKING:
    from reporter_app.trackers.jira import JiraTracker

PAGE = 100


@dataclass
class ScreenField:
    id: str
    name: str
    required: bool
    schema: dict[str, Any]
    allowed: list[str]  # names/values of allowedValues, empty when free-form
    has_default: bool


@dataclass
class Metadata:
    issue_type_id: str
    issue_type_names: list[str]
    screen: dict[str, ScreenField]  # field id -> field on the create screen
    field_ids: dict[str, str] = field(default_factory=dict)  # field name (any case) -> id, from /field
    upload_limit: int | None = None
    attachments_enabled: bool = True

    def field_id(self, name: str) -> str | None:
        """A field by its name or id, when it exists on the site."""
        if not name:
            return None
        if name in self.screen or name.startswith("customfield_"):
            return name
        return self.field_ids.get(name.lower())

    def value_for(self, field_id: str, value: str, adf: bool) -> Any:
        """The JSON a field of this type takes: options as {"value"}, text areas in ADF on Cloud."""
        screen = self.screen[field_id]
        kind, items, custom = screen.schema.get("type"), screen.schema.get("items"), screen.schema.get("custom", "")
        if kind == "option":
            return {"value": value}
        if kind == "array":
            return [{"value": value}] if items == "option" else [value]
        if kind == "number":
            return float(value)
        if kind == "string" and adf and custom.endswith(":textarea"):
            return {"type": "doc", "version": 1,
                    "content": [{"type": "paragraph", "content": [{"type": "text", "text": value}]}]}
        return value


def _values(data: Any, *keys: str) -> list[dict[str, Any]]:
    # Cloud answers {"issueTypes": [...]}/{"fields": [...]}, Data Center 9+ {"values": [...]}.
    for key in keys:
        if isinstance(data, dict) and isinstance(data.get(key), list):
            return list(data[key])
    return []


def _paged(http: HttpClient, path: str, *keys: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    start = 0
    while True:
        data = http.json("GET", path, params={"startAt": start, "maxResults": PAGE})
        batch = _values(data, *keys, "values")
        out.extend(batch)
        total = data.get("total") if isinstance(data, dict) else None
        start += len(batch)
        if not batch or (isinstance(total, int) and start >= total) or (total is None and len(batch) < PAGE):
            return out


def load_metadata(tracker: JiraTracker) -> Metadata:
    http, api, project = tracker.http, tracker.api, tracker.project
    try:
        types = _paged(http, f"{api}/issue/createmeta/{project}/issuetypes", "issueTypes")
    except RefusedError as exc:
        if http_status(exc) in (400, 404):
            raise RefusedError(f"Jira project {project!r} not found, or the account cannot create issues in it "
                               f"(check tracker.project): {exc.message}") from exc
        raise
    names = [str(t.get("name")) for t in types]
    chosen = next((t for t in types if str(t.get("name", "")).lower() == tracker.issue_type.lower()), None)
    if chosen is None:
        raise RefusedError(f"Jira project {project} has no issue type {tracker.issue_type!r} "
                           f"(it has: {', '.join(names) or 'none you may create'}); set tracker.issue_type")
    fields = _paged(http, f"{api}/issue/createmeta/{project}/issuetypes/{chosen['id']}", "fields")
    screen: dict[str, ScreenField] = {}
    for f in fields:
        fid = str(f.get("fieldId") or f.get("key") or "")
        allowed = [str(v.get("name") or v.get("value") or "") for v in f.get("allowedValues") or []
                   if isinstance(v, dict)]
        screen[fid] = ScreenField(fid, str(f.get("name", "")), bool(f.get("required")), f.get("schema") or {},
                                  allowed, bool(f.get("hasDefaultValue")))
    meta = Metadata(str(chosen["id"]), names, screen)
    all_fields = http.json("GET", f"{api}/field") or []
    meta.field_ids = {str(f.get("name", "")).lower(): str(f.get("id")) for f in all_fields if isinstance(f, dict)}
    attach = http.json("GET", f"{api}/attachment/meta") or {}
    meta.attachments_enabled = bool(attach.get("enabled", True))
    limit = attach.get("uploadLimit")
    meta.upload_limit = int(limit) if isinstance(limit, int) and limit > 0 else None
    return meta


# Fields reporter-app fills itself; any other required field without a default blocks every create.
OWN_FIELDS = {"project", "issuetype", "summary", "description", "labels", "priority", "reporter", "attachment"}


def run_checks(tracker: JiraTracker) -> list[CheckResult]:
    if not tracker.token:
        return [CheckResult("tracker", False, "no Jira token: run `reporter-app login` "
                                              "(or set REPORTER_APP_TRACKER_TOKEN)")]
    try:
        me = tracker.http.json("GET", f"{tracker.api}/myself") or {}
    except TrackerError as exc:
        return [CheckResult("tracker", False, exc.message)]
    results = [CheckResult("tracker", True, f"Jira at {tracker.base_url} reachable as "
                                            f"{me.get('displayName') or me.get('name') or '?'}")]
    try:
        meta = tracker.metadata(refresh=True)
    except TrackerError as exc:
        return [*results, CheckResult("project", False, exc.message)]
    results.append(CheckResult("project", True, f"project {tracker.project}, issue type {tracker.issue_type}"))
    results.extend(_field_checks(tracker, meta))
    if not meta.attachments_enabled:
        results.append(CheckResult("attachments", False, "attachments are turned off on this Jira: screenshots and "
                                                         "logs cannot be attached"))
    return results


def _field_checks(tracker: JiraTracker, meta: Metadata) -> list[CheckResult]:
    problems: list[str] = []
    if "labels" not in meta.screen:
        problems.append("the Labels field is not on the create screen: reporter-app keeps each report's key there, "
                        "so retries could file duplicates")
    if tracker.priority_map and "priority" not in meta.screen:
        problems.append("Priority is not on the create screen: remove tracker.priority_map or add the field")
    elif tracker.priority_map:
        allowed = meta.screen["priority"].allowed
        bad = [f"{p}={n}" for p, n in sorted(tracker.priority_map.items()) if allowed and n not in allowed]
        if bad:
            problems.append(f"tracker.priority_map names unknown priorities ({', '.join(bad)}); "
                            f"Jira has: {', '.join(allowed)}")
    for setting, name in (("impact_field", tracker.impact_field), ("reach_field", tracker.reach_field),
                          *(("fixed_fields", n) for n in tracker.fixed_fields)):
        if not name:
            continue
        fid = meta.field_id(name)
        if fid is None:
            problems.append(f"tracker.{setting}: no field named {name!r} on this Jira")
        elif fid not in meta.screen:
            problems.append(f"tracker.{setting}: {name!r} ({fid}) is not on the create screen of "
                            f"{tracker.issue_type} in {tracker.project}")
    filled = OWN_FIELDS | {meta.field_id(n) or "" for n in (tracker.impact_field, tracker.reach_field,
                                                              *tracker.fixed_fields)}
    for f in meta.screen.values():
        if f.required and not f.has_default and f.id not in filled:
            problems.append(f"Jira requires {f.name!r} ({f.id}) on new {tracker.issue_type}s: set it with "
                            f"tracker.fixed_fields = [\"{f.name}=...\"]")
    if problems:
        return [CheckResult("fields", False, p) for p in problems]
    return [CheckResult("fields", True, "every mapped field is on the create screen")]
