"""`reporter-app config show|check|init|path|set`: the CLI parses arguments, these do the work.

Each returns the exit code (0 ok, 1 failure). Normal output goes to `out`; a failure's one-line
reasons go to `err`, which defaults to sys.stderr at call time (so the CLI contract "one-line
reason on stderr" holds without the caller passing it).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import TextIO

from reporter_app.config.effective import Config
from reporter_app.config.errors import ConfigError
from reporter_app.config.loader import load_config
from reporter_app.paths import AppPaths

TEMPLATE_PACKAGE, TEMPLATE_NAME = "resources", "default-config.toml"


def default_template() -> str:
    """The commented template `config init` writes (shipped as package data of `resources`)."""
    return resources.files(TEMPLATE_PACKAGE).joinpath(TEMPLATE_NAME).read_text(encoding="utf-8")


def config_show(cfg: Config, out: TextIO) -> int:
    for warning in cfg.warnings:
        out.write(f"# warning: {warning}\n")
    out.write(cfg.as_toml())
    return 0


def config_check(
    paths: AppPaths,
    env: Mapping[str, str] | None,
    out: TextIO,
    system_only: bool = False,
    *,
    overrides: Sequence[str] = (),
    err: TextIO | None = None,
) -> int:
    """Load every layer (or, with system_only, just the system file as an admin would) and report."""
    err = sys.stderr if err is None else err
    if system_only and not paths.system_config.exists():
        err.write(f"{paths.system_config}: no system config file to check\n")
        return 1
    try:
        cfg = load_config(paths, env, overrides, system_only=system_only)
    except ConfigError as exc:
        for error in exc.all_errors:
            err.write(f"{error}\n")
        return 1
    for warning in cfg.warnings:
        out.write(f"warning: {warning}\n")
    if system_only:
        locked = ", ".join(cfg.get("admin.locked")) or "nothing"
        out.write(f"OK: {paths.system_config} (locks: {locked})\n")
    elif cfg.files:
        out.write("OK: " + ", ".join(str(path) for path in cfg.files) + "\n")
    else:
        out.write(f"OK: no config files, defaults only (looked for {paths.system_config} and {paths.user_config})\n")
    return 0


def config_init(paths: AppPaths, out: TextIO, force: bool = False, *, err: TextIO | None = None) -> int:
    """Write the commented template to the user file, atomically; an existing file is kept unless force."""
    err = sys.stderr if err is None else err
    target = paths.user_config
    if target.exists() and not force:
        err.write(f"{target} already exists; not overwritten (use --force to replace it)\n")
        return 1
    try:
        backup = _write_atomically(target, default_template())
    except OSError as exc:
        err.write(f"cannot write {target}: {exc.strerror or exc}\n")
        return 1
    out.write(f"Wrote {target}\n")
    if backup:
        out.write(f"The previous file is kept as {backup}\n")
    return 0


def _write_atomically(target: Path, text: str) -> Path | None:
    """Temp file in the same directory, then rename: a crash never leaves half a config behind."""
    target.parent.mkdir(parents=True, exist_ok=True)
    backup = None
    if target.exists():
        backup = target.with_name(target.name + ".bak")
        shutil.copy2(target, backup)
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return backup


def config_set(paths: AppPaths, env: Mapping[str, str], pairs: Sequence[str], out: TextIO, *,
               err: TextIO | None = None) -> int:
    """`config set KEY VALUE [KEY VALUE...]`: edit the user file in place (comments and layout kept, see
    config/edit.py), each value read by its key's type as `--set` reads it, validated before the atomic write."""
    from reporter_app.config.edit import set_from_text  # tomlkit: only the verbs that write pay for it

    err = sys.stderr if err is None else err
    if not pairs or len(pairs) % 2:
        err.write("config set needs KEY VALUE pairs, e.g. config set hotkey.report Ctrl+Alt+R\n")
        return 2
    assignments = [(pairs[i].strip(), pairs[i + 1]) for i in range(0, len(pairs), 2)]
    try:
        result = set_from_text(paths, assignments, env)
    except ConfigError as exc:
        for error in exc.all_errors:
            err.write(f"{error}\n")
        return 1
    except OSError as exc:
        err.write(f"cannot write {paths.user_config}: {exc.strerror or exc}\n")
        return 1
    if result.changed:
        out.write(f"Set {', '.join(result.changed)} in {paths.user_config}\n")
    if result.unchanged:
        out.write(f"Unchanged (already set so): {', '.join(result.unchanged)}\n")
    for key, origin in result.overridden.items():
        out.write(f"note: {key} is also set by {origin}, which wins over the file\n")
    return 0


def config_path(paths: AppPaths, out: TextIO) -> int:
    rows = (
        ("user config", paths.user_config, True),
        ("system config", paths.system_config, True),
        ("data dir", paths.data_dir, False),
    )
    for label, path, is_file in rows:
        missing = "  (not present)" if is_file and not path.exists() else ""
        out.write(f"{label + ':':<15}{path}{missing}\n")
    return 0
