"""The test Redmine is what the tracker backends are written against (scripts/redmine-up, tests.support.redmine)."""

from __future__ import annotations

import requests

from tests.support.redmine import Redmine

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_rest_api_and_admin_key(redmine: Redmine) -> None:
    me = redmine.get_json("/users/current.json")["user"]
    assert me["login"] == "admin"
    assert me["admin"] is True


def test_bad_or_missing_key_is_401(redmine: Redmine) -> None:
    url = f"{redmine.url}/issues.json"
    assert requests.get(url, timeout=10).status_code == 401  # login required
    assert requests.get(url, headers={"X-Redmine-API-Key": "0" * 40}, timeout=10).status_code == 401


def test_project_trackers_and_custom_fields(redmine: Redmine) -> None:
    project = redmine.get_json(f"/projects/{redmine.project}.json", include="trackers,issue_custom_fields")["project"]
    assert project["identifier"] == "bugreports"
    assert {t["name"] for t in project["trackers"]} >= {"Bug"}
    assert {cf["name"] for cf in project["issue_custom_fields"]} == {"fingerprint", "idempotency_key", "impact", "reach"}

    fields = {cf["name"]: cf for cf in redmine.get_json("/custom_fields.json")["custom_fields"]}
    for name in ("fingerprint", "idempotency_key"):
        assert fields[name]["field_format"] == "string"
        assert fields[name]["is_filter"] is True
        assert fields[name]["searchable"] is True
    assert [v["value"] for v in fields["impact"]["possible_values"]] == ["blocker", "major", "minor", "cosmetic"]
    assert [v["value"] for v in fields["reach"]["possible_values"]] == ["just_me", "my_team", "many_users"]
    priorities = [p["name"] for p in redmine.get_json("/enumerations/issue_priorities.json")["issue_priorities"]]
    assert priorities == ["Low", "Normal", "High", "Urgent", "Immediate"]


def test_upload_create_and_find_by_custom_field(redmine: Redmine) -> None:
    token = redmine.upload(PNG, "screenshot.png")
    fp, key = redmine.custom_field_id("fingerprint"), redmine.custom_field_id("idempotency_key")
    created = redmine.create_issue(
        "Save button does nothing",
        description="Steps:\n1. click Save",
        tracker_id=redmine.tracker_id("Bug"),
        priority_id=redmine.priority_id("High"),
        custom_fields=[
            {"id": fp, "value": "fp-3f2a9c"},
            {"id": key, "value": "idem-0001"},
            {"id": redmine.custom_field_id("impact"), "value": "major"},
            {"id": redmine.custom_field_id("reach"), "value": "my_team"},
        ],
        uploads=[{"token": token, "filename": "screenshot.png", "content_type": "image/png"}],
    )
    assert created["status"]["name"] == "New"

    issue = redmine.issue(created["id"])
    [attachment] = issue["attachments"]
    assert attachment["filename"] == "screenshot.png"
    assert redmine.session.get(attachment["content_url"], timeout=10).content == PNG
    assert {cf["name"]: cf["value"] for cf in issue["custom_fields"]} == {
        "fingerprint": "fp-3f2a9c", "idempotency_key": "idem-0001", "impact": "major", "reach": "my_team",
    }  # fmt: skip

    # Lookup by custom field needs is_filter; status_id=* includes closed issues.
    assert [i["id"] for i in redmine.issues(**{f"cf_{key}": "idem-0001"})] == [created["id"]]
    assert redmine.issues(**{f"cf_{key}": "idem-other"}) == []


def test_list_fields_reject_unknown_values(redmine: Redmine) -> None:
    response = redmine.request(
        "POST", "/issues.json",
        json={"issue": {"project_id": redmine.project, "subject": "x",
                        "custom_fields": [{"id": redmine.custom_field_id("impact"), "value": "catastrophic"}]}},
    )  # fmt: skip
    assert response.status_code == 422
    assert "impact" in response.text.lower()


def test_reporter_user_is_not_admin(redmine: Redmine) -> None:
    assert redmine.reporter_api_key
    reporter = redmine.server.new_session(redmine.reporter_api_key)
    assert reporter.get(f"{redmine.url}/users/current.json", timeout=10).json()["user"]["login"] == "reporter"
    assert reporter.get(f"{redmine.url}/users.json", timeout=10).status_code == 403
    # ... but may file issues in the project
    response = reporter.post(
        f"{redmine.url}/issues.json", json={"issue": {"project_id": redmine.project, "subject": "from reporter"}},
        timeout=10,
    )
    assert response.status_code == 201, response.text


def test_reset_restores_the_pristine_server(redmine: Redmine) -> None:
    redmine.create_issue("to be forgotten", uploads=[{"token": redmine.upload(PNG, "a.png"), "filename": "a.png"}])
    assert len(redmine.issues()) == 1
    redmine.reset()
    assert redmine.issues() == []
    assert redmine.server.files_dir is not None and list(redmine.server.files_dir.iterdir()) == []
    # ... and keeps serving: ids start over
    assert redmine.create_issue("after reset")["id"] == 1


def test_each_test_starts_pristine(redmine: Redmine) -> None:
    assert redmine.issues() == []
