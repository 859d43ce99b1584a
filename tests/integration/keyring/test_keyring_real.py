"""Credentials in a real SecretService (gnome-keyring on a private D-Bus session; see tests/support/secret_service.py).

The CLI runs as a subprocess, as a user would run it: `login` reads the token on stdin and stores it in the
keyring, `doctor` then reaches the real Redmine with it. The token must never reach a file under the home
directory (config, log, outbox, bundles), and without a secure keyring nothing is stored anywhere.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from reporter_app.credentials import (
    SERVICE,
    TOKEN_ENV,
    CredentialError,
    account_name,
    get_token,
    store_token,
)

SECRET_SERVICE_BACKEND = "keyring.backends.SecretService.Keyring"
FAIL_BACKEND = "keyring.backends.fail.Keyring"


def run_cli(home: Path, *args: str, stdin: str = "", backend: str = SECRET_SERVICE_BACKEND,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k != TOKEN_ENV and not k.startswith("REPORTER_APP_")}
    clean.update({"PYTHON_KEYRING_BACKEND": backend, "REPORTER_APP_SYSTEM_CONFIG": str(home / "no-system.toml"),
                  **(env or {})})
    return subprocess.run([sys.executable, "-m", "reporter_app.cli", "--home", str(home), *args], input=stdin,
                          capture_output=True, text=True, env=clean, timeout=120, cwd=Path(__file__).parents[3])


def write_config(home: Path, url: str, project: str) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(
        '[reporter]\nname = "Ada Tester"\nemail = "ada@example.com"\n\n'
        f'[tracker]\nbackend = "redmine"\nurl = "{url}"\nproject = "{project}"\n', encoding="utf-8")


def files_containing(root: Path, secret: str) -> list[Path]:
    needle = secret.encode()
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


def test_store_and_get_round_trip_and_the_environment_wins(secret_service: Any) -> None:
    store_token("redmine", "https://redmine.example.com", "key-from-keyring")
    assert secret_service.get_password(SERVICE, account_name("redmine", "https://redmine.example.com")) == \
        "key-from-keyring"
    assert get_token("redmine", "https://redmine.example.com", env={}) == "key-from-keyring"
    assert get_token("redmine", "https://other.example.com", env={}) is None  # per tracker URL
    assert get_token("redmine", "https://redmine.example.com", env={TOKEN_ENV: "from-env"}) == "from-env"
    store_token("redmine", "https://redmine.example.com", "rotated")
    assert get_token("redmine", "https://redmine.example.com", env={}) == "rotated"


def test_login_then_doctor_against_the_real_redmine(secret_service: Any, redmine: Any, tmp_path: Path) -> None:
    home = tmp_path / "home"
    write_config(home, redmine.url, redmine.project)
    token = redmine.reporter_api_key or redmine.api_key

    login = run_cli(home, "login", stdin=token + "\n")
    assert login.returncode == 0, login.stderr
    assert "Stored in the OS keyring" in login.stdout
    assert secret_service.get_password(SERVICE, account_name("redmine", redmine.url)) == token

    doctor = run_cli(home, "doctor")
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert "FAIL" not in doctor.stdout and "redmine" in doctor.stdout

    filed = run_cli(home, "report", "--title", "Keyring check", "--description", "filed with the stored key",
                    "--no-screenshot")
    assert filed.returncode == 0, filed.stderr
    assert [i["subject"] for i in redmine.issues()] == ["Keyring check"]
    # Nowhere on disk: not in config, the log (<data>/reporter-app.log), the outbox or the bundles.
    assert files_containing(home, token) == []
    assert token not in login.stdout + login.stderr + doctor.stdout + doctor.stderr + filed.stdout + filed.stderr


def test_the_environment_token_overrides_the_keyring(secret_service: Any, redmine: Any, tmp_path: Path) -> None:
    home = tmp_path / "home"
    write_config(home, redmine.url, redmine.project)
    secret_service.set_password(SERVICE, account_name("redmine", redmine.url), "wrong-key-in-keyring")
    assert run_cli(home, "doctor").returncode == 1  # the keyring's key is wrong...
    doctor = run_cli(home, "doctor", env={TOKEN_ENV: redmine.api_key})
    assert doctor.returncode == 0, doctor.stdout  # ...the environment's is used instead


@pytest.mark.parametrize("backend", [FAIL_BACKEND, "keyring.backends.null.Keyring"])
def test_no_secure_keyring_is_a_clear_message_and_no_plaintext(tmp_path: Path, backend: str) -> None:
    home = tmp_path / "home"
    write_config(home, "http://127.0.0.1:9", "bugreports")
    login = run_cli(home, "login", stdin="s3cret-token-value\n", backend=backend)
    assert login.returncode == 1
    [line] = login.stderr.strip().splitlines()
    assert "keyring" in line.lower() and TOKEN_ENV in line
    assert files_containing(home, "s3cret-token-value") == []
    assert not any(p.suffix in (".cfg", ".ini") for p in home.rglob("*"))  # keyrings.alt's plaintext files


def test_without_a_secure_keyring_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        with pytest.raises(CredentialError, match="no secure OS keyring"):
            store_token("redmine", "https://redmine.example.com", "x")
        with pytest.raises(CredentialError, match=TOKEN_ENV):
            get_token("redmine", "https://redmine.example.com", env={})
        assert get_token("redmine", "https://redmine.example.com", env={TOKEN_ENV: "ok"}) == "ok"
    finally:
        keyring.set_keyring(previous)
