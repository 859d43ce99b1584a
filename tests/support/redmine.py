"""The throw-away Redmine that ``scripts/redmine-up`` starts (``scripts/test-all`` does it for you).

Fixtures (imported by ``tests/integration/conftest.py`` and ``tests/system/conftest.py``):

``redmine_server`` (session)
    The running server, from the env file test-all names in ``REDMINE_ENV_FILE``, or else ``REDMINE_URL`` and
    ``REDMINE_API_KEY`` in the environment, or else ``.test-artifacts/redmine/redmine.env`` (a manual
    ``./scripts/redmine-up``).
    Skips when there is none; fails under CI / test-all.
``redmine``
    Per test: the server restored to its pristine state (no issues, no attachments; ~10 ms, an sqlite online backup
    of the pristine copy into the live database, then an emptied attachments dir) and a :class:`Redmine` handle with
    an authenticated ``requests.Session``.

What the pristine server has (``scripts/redmine-setup.rb``): REST API on, login required, admin's API key
(``api_key``), project ``bugreports`` (``project``) with trackers Bug/Feature/Support, issue custom fields
``fingerprint`` and ``idempotency_key`` (string, filterable: ``cf_N=`` works), ``impact`` (list: blocker major minor
cosmetic) and ``reach`` (list: just_me my_team many_users), Redmine's default priorities (Low, Normal, High, Urgent,
Immediate) and statuses, and a non-admin user ``reporter`` with the Reporter role (``reporter_api_key``).
Look ids up by name (``custom_field_id``, ``priority_id``, ...): never hard-code them.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.env import ARTIFACTS_DIR, unavailable

DEFAULT_ENV_FILE = Path(ARTIFACTS_DIR) / "redmine" / "redmine.env"
TIMEOUT = 30  # seconds, for every request the helpers make


def read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip().strip("'\"")
    return values


def load_config() -> tuple[dict[str, str], str]:
    """The server's settings and where they came from (empty settings, and the file looked for, without a server).

    ``REDMINE_ENV_FILE`` (set by scripts/test-all) names the file to read; without it, ``REDMINE_URL`` and
    ``REDMINE_API_KEY`` in the environment, else ``.test-artifacts/redmine/redmine.env`` (``./scripts/redmine-up``).
    """
    env_file = os.environ.get("REDMINE_ENV_FILE")
    if not env_file and os.environ.get("REDMINE_URL") and os.environ.get("REDMINE_API_KEY"):
        return {k: v for k, v in os.environ.items() if k.startswith("REDMINE_")}, "environment"
    path = Path(env_file or DEFAULT_ENV_FILE)
    if path.is_file():
        return read_env_file(path), str(path)
    return {}, str(path)


@dataclass
class RedmineServer:
    url: str
    api_key: str
    project: str
    values: dict[str, str] = field(repr=False)

    @classmethod
    def from_values(cls, values: dict[str, str]) -> RedmineServer:
        return cls(values["REDMINE_URL"].rstrip("/"), values["REDMINE_API_KEY"], values.get("REDMINE_PROJECT", "bugreports"), values)

    def _path(self, key: str) -> Path | None:
        value = self.values.get(key)
        return Path(value) if value else None

    @property
    def reporter_api_key(self) -> str | None:
        """API key of ``reporter``, a non-admin member of the project with the Reporter role."""
        return self.values.get("REDMINE_REPORTER_API_KEY")

    @property
    def pid(self) -> int | None:
        return int(self.values["REDMINE_PID"]) if self.values.get("REDMINE_PID") else None

    @property
    def db_path(self) -> Path | None:
        return self._path("REDMINE_DB")

    @property
    def pristine_db_path(self) -> Path | None:
        return self._path("REDMINE_PRISTINE_DB")

    @property
    def files_dir(self) -> Path | None:
        return self._path("REDMINE_FILES_DIR")

    @property
    def log_path(self) -> Path | None:
        return self._path("REDMINE_LOG")

    def new_session(self, api_key: str | None = None) -> requests.Session:
        session = requests.Session()
        session.headers["X-Redmine-API-Key"] = api_key or self.api_key
        return session

    def alive(self, timeout: float = 5) -> bool:
        try:
            return requests.get(f"{self.url}/login", timeout=timeout).status_code == 200
        except requests.RequestException:
            return False

    def reset(self) -> None:
        """Back to the pristine state: the database (sqlite online backup; Redmine keeps running) and attachments."""
        db, pristine = self.db_path, self.pristine_db_path
        if db is None or pristine is None:
            pytest.fail("this Redmine has no REDMINE_DB / REDMINE_PRISTINE_DB: cannot reset it", pytrace=False)
        if not os.access(db, os.W_OK) or not os.access(db.parent, os.W_OK):
            pytest.fail(
                f"cannot write {db} to reset Redmine: start it as root, or with `scripts/redmine-up --owner $(id -u)`",
                pytrace=False,
            )
        src = sqlite3.connect(f"file:{pristine}?mode=ro", uri=True)
        dst = sqlite3.connect(db, timeout=30)
        try:
            with dst:
                src.backup(dst)
        finally:
            src.close()
            dst.close()
        files = self.files_dir
        if files is not None and files.is_dir():
            for child in files.iterdir():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    child.unlink(missing_ok=True)


class Redmine:
    """One test's view of the server: an authenticated session and lookups by name."""

    def __init__(self, server: RedmineServer) -> None:
        self.server = server
        self.url = server.url
        self.api_key = server.api_key
        self.project = server.project
        self.reporter_api_key = server.reporter_api_key
        self.session = server.new_session()

    def close(self) -> None:
        self.session.close()

    def reset(self) -> None:
        self.server.reset()

    # -- raw REST ------------------------------------------------------------------------------------------------
    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", TIMEOUT)
        return self.session.request(method, f"{self.url}/{path.lstrip('/')}", **kwargs)

    def get_json(self, path: str, **params: Any) -> Any:
        response = self.request("GET", path, params=params)
        response.raise_for_status()
        return response.json()

    # -- lookups by name (ids differ between installations) -------------------------------------------------------
    @cached_property
    def custom_fields(self) -> dict[str, int]:
        return {cf["name"]: cf["id"] for cf in self.get_json("/custom_fields.json")["custom_fields"]}

    def custom_field_id(self, name: str) -> int:
        return self.custom_fields[name]

    def _ids(self, path: str, key: str) -> dict[str, int]:
        return {e["name"]: e["id"] for e in self.get_json(path)[key]}

    def priority_id(self, name: str) -> int:
        return self._ids("/enumerations/issue_priorities.json", "issue_priorities")[name]

    def tracker_id(self, name: str) -> int:
        return self._ids("/trackers.json", "trackers")[name]

    def status_id(self, name: str) -> int:
        return self._ids("/issue_statuses.json", "issue_statuses")[name]

    # -- common operations ------------------------------------------------------------------------------------------
    def upload(self, data: bytes, filename: str) -> str:
        """Upload bytes; returns the token for ``uploads`` of an issue."""
        response = self.request(
            "POST", "/uploads.json", params={"filename": filename}, data=data,
            headers={"Content-Type": "application/octet-stream"},
        )  # fmt: skip
        response.raise_for_status()
        return str(response.json()["upload"]["token"])

    def create_issue(self, subject: str, **fields: Any) -> dict[str, Any]:
        payload = {"project_id": self.project, "subject": subject, **fields}
        response = self.request("POST", "/issues.json", json={"issue": payload})
        if response.status_code != 201:
            raise AssertionError(f"creating an issue: HTTP {response.status_code}: {response.text[:500]}")
        return dict(response.json()["issue"])

    def issue(self, issue_id: int, include: str = "attachments,journals") -> dict[str, Any]:
        return dict(self.get_json(f"/issues/{issue_id}.json", include=include)["issue"])

    def issues(self, **params: Any) -> list[dict[str, Any]]:
        """Issues of the project, open and closed (``status_id=*``) unless ``params`` say otherwise."""
        params = {"project_id": self.project, "status_id": "*", "limit": 100, **params}
        return list(self.get_json("/issues.json", **params)["issues"])


@pytest.fixture(scope="session")
def redmine_server() -> RedmineServer:
    values, source = load_config()
    if not values:
        unavailable(
            f"no Redmine: no REDMINE_URL in the environment and no {source} (did ./scripts/redmine-up run, and work? "
            "its log is beside that file)"
        )
    try:
        server = RedmineServer.from_values(values)
    except KeyError as exc:
        pytest.fail(f"Redmine settings from {source} lack {exc}", pytrace=False)
    deadline = time.monotonic() + 30
    while not server.alive():
        if time.monotonic() > deadline:
            unavailable(f"Redmine at {server.url} (from {source}) does not answer; log: {server.log_path}")
        time.sleep(0.5)
    return server


@pytest.fixture
def redmine(redmine_server: RedmineServer) -> Iterator[Redmine]:
    """A pristine Redmine for this test, with an authenticated ``requests.Session`` (``.session``)."""
    redmine_server.reset()
    handle = Redmine(redmine_server)
    try:
        yield handle
    finally:
        handle.close()
