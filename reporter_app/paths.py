"""Where config and data live. `REPORTER_APP_HOME` (or `--home`) puts everything under one directory."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "reporter-app"


def default_system_config() -> Path:
    """The admin-managed file; its keys can be locked."""
    if sys.platform == "win32":
        return Path(os.environ.get("PROGRAMDATA", r"C:\ProgramData")) / APP_NAME / "config.toml"
    if sys.platform == "darwin":
        return Path("/Library/Application Support") / APP_NAME / "config.toml"
    return Path("/etc") / APP_NAME / "config.toml"


@dataclass(frozen=True)
class AppPaths:
    config_dir: Path
    data_dir: Path
    system_config: Path

    @property
    def user_config(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"

    @property
    def outbox_db(self) -> Path:
        return self.data_dir / "outbox.sqlite3"

    @property
    def local_tracker_dir(self) -> Path:
        return self.data_dir / "local-tracker"

    @property
    def drafts_dir(self) -> Path:
        return self.data_dir / "drafts"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "reporter-app.log"


def resolve_paths(home: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None) -> AppPaths:
    env = os.environ if env is None else env
    system = Path(env["REPORTER_APP_SYSTEM_CONFIG"]) if env.get("REPORTER_APP_SYSTEM_CONFIG") else default_system_config()
    chosen = home or env.get("REPORTER_APP_HOME")
    if chosen:
        root = Path(chosen).expanduser().resolve()
        return AppPaths(config_dir=root, data_dir=root / "data", system_config=system)
    import platformdirs

    return AppPaths(
        config_dir=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
        data_dir=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        system_config=system,
    )
