"""`reporter-app doctor` as a user runs it, against the real Redmine: passes with the right settings, and a wrong
key, a wrong project or an unreachable URL each give exactly one clear FAIL line (and exit status 1)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from reporter_app.credentials import TOKEN_ENV

REPO = Path(__file__).parents[3]


def doctor(home: Path, token: str, *overrides: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPORTER_APP_")}
    # The token comes from the environment (automation); a keyring is neither needed nor touched.
    env.update({TOKEN_ENV: token, "REPORTER_APP_SYSTEM_CONFIG": str(home / "no-system.toml")})
    args = [a for o in overrides for a in ("--set", o)]
    return subprocess.run([sys.executable, "-m", "reporter_app.cli", "--home", str(home), *args, "doctor"],
                          capture_output=True, text=True, env=env, timeout=120, cwd=REPO)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text('[reporter]\nname = "Ada Tester"\n\n[tracker]\nbackend = "redmine"\n',
                                      encoding="utf-8")
    return home


def fails(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith("FAIL")]


def test_doctor_passes_against_the_real_redmine(redmine: Any, home: Path) -> None:
    result = doctor(home, redmine.reporter_api_key or redmine.api_key, f"tracker.url={redmine.url}",
                    f"tracker.project={redmine.project}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert fails(result) == []
    assert any(line.startswith("ok") and "redmine project" in line for line in result.stdout.splitlines())


@pytest.mark.parametrize(("case", "words"), [
    ("wrong key", ["rejected the API key", "reporter-app login"]),
    ("wrong project", ["no-such-project"]),
    ("unreachable", ["cannot reach", "connection refused"]),
])
def test_doctor_gives_one_clear_line_per_problem(redmine: Any, home: Path, case: str, words: list[str]) -> None:
    url, project, token = redmine.url, redmine.project, redmine.reporter_api_key or redmine.api_key
    if case == "wrong key":
        token = "0" * 40
    elif case == "wrong project":
        project = "no-such-project"
    else:
        url = f"http://127.0.0.1:{free_port()}"
    result = doctor(home, token, f"tracker.url={url}", f"tracker.project={project}")
    assert result.returncode == 1, result.stdout
    [line] = fails(result)
    for word in words:
        assert word in line, line
    assert token not in result.stdout + result.stderr
