from __future__ import annotations

from pathlib import Path

from ui.drafts import DraftStore, FormDraft


def test_save_load_clear(tmp_path: Path) -> None:
    store = DraftStore(tmp_path / "drafts")
    assert store.load() is None
    store.save(FormDraft(title="Crash on save", impact="blocker"))
    loaded = store.load()
    assert loaded is not None and loaded.title == "Crash on save" and loaded.impact == "blocker"
    store.clear()
    assert store.load() is None


def test_an_empty_or_broken_draft_is_not_offered(tmp_path: Path) -> None:
    store = DraftStore(tmp_path)
    store.save(FormDraft(title="  "))
    assert store.load() is None
    store.path.write_text("{not json", encoding="utf-8")
    assert store.load() is None


def test_unknown_keys_from_a_newer_version_are_ignored() -> None:
    assert FormDraft.from_json({"title": "x", "future": 1}).title == "x"
