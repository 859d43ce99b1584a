"""The form's draft, saved continuously so a crash loses nothing.

One JSON file, written to a temp name and renamed (never half-written). Saving is cheap
(a few hundred bytes) but still done from the background pool: the GUI thread does no disk work.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

DRAFT_FILE = "current.json"


@dataclass
class FormDraft:
    title: str = ""
    description: str = ""
    expected: str = ""
    steps: str = ""
    impact: str = ""
    reach: str = "just_me"
    priority: str = ""
    component: str = ""
    saved_at: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def is_empty(self) -> bool:
        return not any(v.strip() for v in (self.title, self.description, self.expected, self.steps))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FormDraft:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


class DraftStore:
    def __init__(self, drafts_dir: Path) -> None:
        self.path = Path(drafts_dir) / DRAFT_FILE

    def save(self, draft: FormDraft) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".draft-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(asdict(draft), out, ensure_ascii=False)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def load(self) -> FormDraft | None:
        """The draft left by a previous run (after a crash, or an unsent form); None if there is none."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        draft = FormDraft.from_json(data) if isinstance(data, dict) else None
        return None if draft is None or draft.is_empty() else draft

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)
