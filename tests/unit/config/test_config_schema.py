"""The schema, durations, and the documents that describe the schema staying in step with it."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from datetime import timedelta
from pathlib import Path

import pytest

from reporter_app.config import SCHEMA, TABLE_ARRAYS, load_config, parse_duration
from reporter_app.config.commands import default_template
from reporter_app.config.errors import ValueProblem

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("text", "delta", "business_days"),
    [
        ("30m", timedelta(minutes=30), 0),
        ("4h", timedelta(hours=4), 0),
        ("3d", timedelta(days=3), 0),
        ("1w", timedelta(weeks=1), 0),
        ("1d12h", timedelta(days=1, hours=12), 0),
        (" 2BD ", timedelta(0), 2),
    ],
)
def test_parse_duration(text, delta, business_days):
    duration = parse_duration(text)
    assert duration is not None
    assert (duration.delta, duration.business_days) == (delta, business_days)


def test_empty_duration_means_no_target():
    assert parse_duration("") is None
    assert parse_duration("  ") is None


@pytest.mark.parametrize("text", ["3", "3 days", "h", "0d", "0bd", "1bd2h", "1.5h", "-1h"])
def test_bad_durations(text):
    with pytest.raises(ValueProblem):
        parse_duration(text)


def test_every_default_passes_its_own_checks(paths):
    cfg = load_config(paths, env={})  # raises if a default broke a range, choice or duration
    assert len(cfg.get("priority.rules")) == len(TABLE_ARRAYS["priority.rules"].default)


def test_every_option_is_described():
    for option in [*SCHEMA.values(), *(f for a in TABLE_ARRAYS.values() for f in a.fields)]:
        assert option.description.strip(), option.key
        if option.choices and option.default is not None:
            assert option.default in option.choices, option.key


def _uncommented_template() -> str:
    """The template with every `# key = value` and `# [[table]]` line uncommented."""
    line = re.compile(r"^# (\[\[[a-z.]+\]\]|[a-z_]+ = .*)$")
    return "\n".join(m.group(1) if (m := line.match(text)) else text for text in default_template().splitlines())


def test_template_mentions_every_user_setting():
    text = _uncommented_template()
    data = tomllib.loads(text)
    for key in SCHEMA:
        if key.startswith("admin."):
            assert "admin" not in data  # [admin] in a user file is an error
            continue
        node = data
        for part in key.split("."):
            assert part in node, f"{key} missing from resources/default-config.toml"
            node = node[part]


def test_uncommented_template_is_the_defaults(paths):
    paths.config_dir.mkdir(parents=True)
    paths.user_config.write_text(_uncommented_template(), encoding="utf-8")
    cfg = load_config(paths, env={})
    defaults = load_config(paths.__class__(paths.config_dir / "none", paths.data_dir, paths.system_config), env={})
    for key in [*SCHEMA, "tracker.folder", "tracker.key_prefix", "priority.rules"]:
        assert cfg.get(key) == defaults.get(key), key
    assert [source.name for source in cfg.logs] == ["myapp", "myapp-service"]
    assert cfg.get("privacy.rules") == [{"name": "customer-id", "pattern": r"CUST-\d{6}"}]


def test_docs_mention_every_key():
    docs = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    for key in SCHEMA:
        table, _, name = key.rpartition(".")
        assert f"[{table}]" in docs, table
        assert f"`{name}`" in docs, key
    for array in TABLE_ARRAYS.values():
        assert f"[[{array.key}]]" in docs
        for field in array.fields:
            assert f"`{field.key}`" in docs, f"{array.key}.{field.key}"


def test_config_package_imports_without_a_cycle():
    """trackers.base imports config.options: importing either first must work in a fresh interpreter."""
    for module in ("reporter_app.trackers", "reporter_app.config"):
        subprocess.run([sys.executable, "-c", f"import {module}"], check=True, cwd=REPO)
