"""Recent logs from real files written by Python's logging with rotation, then scrubbed."""

from __future__ import annotations

import gzip
import logging
import logging.handlers
import os
import shutil
from pathlib import Path

from capture.logs import LogSourceSpec, read_recent
from capture.scrub import Scrubber


def test_rotating_handler_with_gzip_then_scrub(tmp_path: Path) -> None:
    log_path = tmp_path / "app.log"
    handler = logging.handlers.RotatingFileHandler(log_path, maxBytes=2000, backupCount=3, encoding="utf-8")

    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger = logging.getLogger("capture-test-app")
    logger.propagate = False
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        for i in range(120):
            logger.info("request %03d password=hunter%03d", i, i)
    finally:
        logger.removeHandler(handler)
        handler.close()
    # logrotate's "compress + delaycompress": .1 stays plain, older ones are gzipped.
    for old in sorted(tmp_path.glob("app.log.[2-9]")):
        with open(old, "rb") as src, gzip.open(f"{old}.gz", "wb") as dst:
            shutil.copyfileobj(src, dst)
        old.unlink()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["app.log", "app.log.1", "app.log.2.gz", "app.log.3.gz"]
    # Rotation happened within one second here: give the files their real-life ages.
    for path in tmp_path.iterdir():
        index = 0 if path.name == "app.log" else int(path.name.split(".")[2])
        os.utime(path, (1_700_000_000 - index * 60,) * 2)

    excerpt = read_recent(LogSourceSpec("app", path=str(log_path), lines=60))
    lines = excerpt.text.split("\n")
    assert excerpt.line_count == 60 and len(excerpt.sources) >= 3  # spans into a .gz
    numbers = [int(line.split("request ")[1][:3]) for line in lines]
    assert numbers == list(range(60, 120))  # the newest 60, in order, across the rotation boundary

    scrubbed = Scrubber().scrub(excerpt.text)
    assert "hunter" not in scrubbed.text
    assert scrubbed.counts == {"secret-value": 60}
