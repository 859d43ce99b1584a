"""Layered TOML configuration: defaults < system file < user file < environment < command line.

    from reporter_app.config import load_config
    cfg = load_config(paths, env=os.environ, overrides=["capture.screenshot=none"])
    cfg.get("tracker.backend"), cfg.section("tracker"), cfg.logs, cfg.origin("tracker.url")

The schema (every key, declared once) is in `schema.py`; the rules for layers, locking and
errors are in `loader.py` and docs/configuration.md.

Nothing here imports the tracker registry at import time: `trackers.base` imports `config.options`.
"""

from reporter_app.config.effective import Config
from reporter_app.config.errors import ConfigError
from reporter_app.config.loader import load_config
from reporter_app.config.options import Option
from reporter_app.config.schema import (
    SCHEMA,
    TABLE_ARRAYS,
    Duration,
    LogSource,
    SlaTarget,
    parse_duration,
)

__all__ = [
    "SCHEMA",
    "TABLE_ARRAYS",
    "Config",
    "ConfigError",
    "Duration",
    "LogSource",
    "Option",
    "SlaTarget",
    "load_config",
    "parse_duration",
]
