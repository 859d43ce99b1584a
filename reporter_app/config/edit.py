"""Round-trip editing of the user's config.toml: change values, keep everything else as the user wrote it.

`tomllib` only reads, and writing a file back from a dict loses the user's comments, blank lines,
key order and the sections we do not know. tomlkit keeps the document's layout (comments, blank
lines, quoting, unknown tables) and lets single values change, so a save touches only what
changed. `reporter-app config set` and the settings dialog (ui/settings_model.py) both edit
through here.

Every write is validated by loading the new text exactly as the app would (the real system
file and environment) before it replaces the file atomically: a bad value is refused with the
loader's one-line error naming the key, and the file is left as it was. A secret is refused
before anything touches the disk, its value never repeated.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import AoT, Comment, InlineTable, Null, Table, Whitespace
from tomlkit.toml_document import TOMLDocument

from reporter_app.config.effective import Config
from reporter_app.config.errors import ConfigError, ValueProblem, closest
from reporter_app.config.loader import load_config
from reporter_app.config.options import Option
from reporter_app.config.schema import SCHEMA, SECRET_HINT, TABLE_ARRAYS, looks_secret, parse_text
from reporter_app.fsutil import atomic_write_text
from reporter_app.paths import AppPaths

Document = TOMLDocument
_MISSING = object()


# ---------------------------------------------------------------- reading and rendering


def parse_document(text: str, where: str = "") -> Document:
    """The text as an editable document; ConfigError (naming `where`) when it is not TOML."""
    try:
        return tomlkit.parse(text)
    except TOMLKitError as exc:
        raise ConfigError(f"not valid TOML: {exc}", where=where) from None


def read_document(path: Path) -> Document:
    """The user's file, or an empty document when there is none yet. Disk: call off the GUI thread."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return tomlkit.document()
    return parse_document(text, str(path))


def render(doc: Document) -> str:
    return tomlkit.dumps(doc)


# ---------------------------------------------------------------- editing values


def _plain(value: Any) -> Any:
    """A Python value as TOML can hold it (enums by value, tuples as lists)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _unwrap(item: Any) -> Any:
    return item.unwrap() if hasattr(item, "unwrap") else item


def _same(old: Any, new: Any) -> bool:
    """Equal as config values: 30 and 30.0 are (the loader reads both), true and 1 are not."""
    if isinstance(old, bool) or isinstance(new, bool):
        return isinstance(old, bool) and isinstance(new, bool) and old == new
    return bool(old == new)


def _refuse_secret(key: str) -> None:
    if looks_secret(key.rpartition(".")[2]):
        raise ConfigError(SECRET_HINT, key=key)


def get_value(doc: Document, key: str) -> Any:
    """The plain value at a dotted key, or None when the document does not set it."""
    node: Any = doc
    for name in key.split("."):
        if not isinstance(node, Mapping) or name not in node:
            return None
        node = node[name]
    return _unwrap(node)


def _container(doc: Document, tables: Sequence[str], create: bool) -> Any:
    """The table that holds a key's leaf; created (as header-less parents, then a plain table) when asked."""
    node: Any = doc
    for depth, name in enumerate(tables):
        if name not in node:
            if not create:
                return None
            # A parent that only holds sub-tables ([sla] above [sla.P1]) gets no header of its own.
            node[name] = tomlkit.table(is_super_table=depth < len(tables) - 1)
        node = node[name]
        if not isinstance(node, Mapping) or isinstance(node, AoT):
            raise ConfigError(f"is not a table in the file ({type(_unwrap(node)).__name__}); fix it by hand",
                              key=".".join(tables[: depth + 1]))
    return node


def _append_before_trailing_comments(table: Table, leaf: str, value: Any) -> None:
    """A new key goes after the table's last key, not after the blank line and comment that
    introduce the next table (tomlkit would append it there, under the next table's comment)."""
    body = table.value.body
    start = len(body)
    while start > 0 and body[start - 1][0] is None and isinstance(body[start - 1][1], Comment | Whitespace | Null):
        start -= 1
    trailing = [item for _, item in body[start:] if not isinstance(item, Null)]
    for index in range(start, len(body)):
        body[index] = (None, Null())  # how tomlkit itself blanks a removed slot
    table.append(leaf, value)
    for item in trailing:
        table.append(None, item)


def set_value(doc: Document, key: str, value: Any) -> bool:
    """Set one dotted key; False (and the document untouched) when it already holds that value.

    An existing value is replaced in place, so its trailing comment and position stay."""
    _refuse_secret(key)
    value = _plain(value)
    *tables, leaf = key.split(".")
    existing = get_value(doc, key)
    if existing is not None and _same(existing, value):
        return False
    container = _container(doc, tables, create=True)
    if leaf in container or isinstance(container, InlineTable) or not isinstance(container, Table):
        container[leaf] = value
    else:
        _append_before_trailing_comments(container, leaf, value)
    return True


def remove_value(doc: Document, key: str) -> bool:
    """Remove a dotted key (it falls back to the lower layers); False when it was not set."""
    *tables, leaf = key.split(".")
    container = _container(doc, tables, create=False)
    if container is None or leaf not in container:
        return False
    del container[leaf]
    return True


def _body(node: Any) -> list[tuple[Any, Any]]:
    return list(node.body) if isinstance(node, TOMLDocument) else list(node.value.body)


def _take_trailing_comments(table: Table, keep_blank: bool) -> list[Any]:
    """Blank the comment lines (with the blank lines between them, when asked) at the end of a table's
    body and return them, in order."""
    body = table.value.body
    taken: list[Any] = []
    position = len(body)
    kinds = Comment | Whitespace | Null if keep_blank else Comment | Null
    while position > 0 and body[position - 1][0] is None and isinstance(body[position - 1][1], kinds):
        position -= 1
        if not isinstance(body[position][1], Null):
            taken.insert(0, body[position][1])
        body[position] = (None, Null())
    while taken and isinstance(taken[0], Whitespace):
        taken.pop(0)  # the blank line that separated them from the last key stays where it was
    return taken


def _remove_entry(container: Any, leaf: str, entries: AoT, index: int) -> None:
    """Remove one [[entry]] and the comment lines right above its header (they describe it). tomlkit keeps
    the comments above a header at the end of the previous entry's body (or of the table before the array),
    so the comments above the *next* header live in the removed entry: they move up, they are not lost."""
    above = entries[index - 1] if index > 0 else _table_before(container, leaf)
    if above is not None:
        _take_trailing_comments(above, keep_blank=False)
    moved = _take_trailing_comments(entries[index], keep_blank=True) if index + 1 < len(entries) else []
    del entries[index]
    if moved and above is not None:
        if not above.as_string().endswith("\n\n"):
            above.add(tomlkit.nl())
        for item in moved:
            above.add(item)


def _table_before(container: Any, leaf: str) -> Table | None:
    """The table rendered just before `[[leaf]]` in its container, if it is one."""
    previous = None
    for key, item in _body(container):
        if key is not None and key.key == leaf:
            return previous if isinstance(previous, Table) else None
        if not isinstance(item, Null | Whitespace | Comment):
            previous = item
    return None


def _followed(container: Any, leaf: str) -> bool:
    """Something comes after `leaf` in its container (a new last entry then needs a blank line after it)."""
    seen = False
    for key, item in _body(container):
        if seen and not isinstance(item, Null):
            return True
        seen = seen or (key is not None and key.key == leaf)
    return False


def _new_entry(values: Mapping[str, Any]) -> Table:
    entry = tomlkit.table()
    for name, value in values.items():
        _refuse_secret(name)
        entry[name] = _plain(value)
    return entry


def set_table_array(doc: Document, key: str, entries: Sequence[Mapping[str, Any]]) -> bool:
    """Make `[[key]]` hold `entries`, editing in place: entries are matched by name (the array's merge key),
    a kept entry changes only the fields that differ (its comments stay), a removed one goes with the
    comment just above it, a new one is added at the end. Arrays without a merge key are replaced whole
    when they differ. False when nothing changed."""
    wanted = [{str(k): _plain(v) for k, v in entry.items()} for entry in entries]
    *tables, leaf = key.split(".")
    container = _container(doc, tables, create=bool(wanted))
    current = container.get(leaf) if container is not None else None
    if current is not None and _unwrap(current) == wanted:
        return False
    if not wanted:
        if current is None:
            return False
        above = _table_before(container, leaf)
        if above is not None:
            _take_trailing_comments(above, keep_blank=False)  # "# my log files" above the first header
        del container[leaf]
        return True
    merge_by = TABLE_ARRAYS[key].merge_by if key in TABLE_ARRAYS else None
    if not isinstance(current, AoT) or merge_by is None:
        array = tomlkit.aot()
        for values in wanted:
            array.append(_new_entry(values))
        container[leaf] = array
        return True
    by_name = {str(entry.get(merge_by)): entry for entry in wanted}
    for index in reversed(range(len(current))):
        if str(current[index].get(merge_by)) not in by_name:
            _remove_entry(container, leaf, current, index)
    present = set()
    for table in current:
        name = str(table.get(merge_by))
        present.add(name)
        values = by_name[name]
        for field_name in [f for f in table if f not in values]:
            del table[field_name]
        for field_name, value in values.items():
            if field_name not in table or not _same(_unwrap(table[field_name]), value):
                _refuse_secret(field_name)
                if field_name in table:
                    table[field_name] = value
                else:
                    _append_before_trailing_comments(table, field_name, value)
    for values in wanted:
        if str(values.get(merge_by)) not in present:
            if len(current) and not current[-1].as_string().endswith("\n\n"):
                current[-1].add(tomlkit.nl())  # a blank line between entries, as the user's own have
            current.append(_new_entry(values))
            if _followed(container, leaf):
                current[-1].add(tomlkit.nl())
    return True


# ---------------------------------------------------------------- validating and writing


def validate_text(paths: AppPaths, text: str, env: Mapping[str, str]) -> Config:
    """Load `text` as the user file, with the real system file and environment. Raises ConfigError
    whose location names the real user file, not the scratch copy."""
    with tempfile.TemporaryDirectory(prefix="reporter-app-config-") as scratch:
        trial = AppPaths(config_dir=Path(scratch), data_dir=paths.data_dir, system_config=paths.system_config)
        trial.user_config.write_text(text, encoding="utf-8")
        try:
            return load_config(trial, env=env)
        except ConfigError as exc:
            for error in exc.all_errors:
                error.where = error.where.replace(str(trial.user_config), str(paths.user_config))
            raise


def write_document(paths: AppPaths, doc: Document, env: Mapping[str, str]) -> Config:
    """Validate the edited document, then replace the user file atomically. On an error the file is untouched.
    Returns the config as loaded from the written file (origins name it, not the scratch copy)."""
    text = render(doc)
    validate_text(paths, text, env)
    atomic_write_text(paths.user_config, text)
    return load_config(paths, env=env)


# ---------------------------------------------------------------- `reporter-app config set`


@dataclass
class SetResult:
    changed: list[str] = field(default_factory=list)  # keys written
    unchanged: list[str] = field(default_factory=list)  # keys that already held the value
    overridden: dict[str, str] = field(default_factory=dict)  # key -> the layer whose value wins over the file
    config: Config | None = None


def _option(key: str, backend: str) -> Option:
    if key in SCHEMA:
        return SCHEMA[key]
    if key.startswith("tracker."):
        from reporter_app.trackers import BACKENDS, load_backend  # lazily: trackers.base imports config

        if backend in BACKENDS:
            for option in load_backend(backend).options:
                if f"tracker.{option.key}" == key:
                    return option
    if key in TABLE_ARRAYS:
        raise ConfigError("arrays of tables are edited in the file itself or in Settings, not with `config set`",
                          key=key)
    raise ConfigError(f"unknown key for the '{backend}' backend" if key.startswith("tracker.") else "unknown key",
                      key=key, suggestion=closest(key, list(SCHEMA)))


def set_from_text(paths: AppPaths, assignments: Sequence[tuple[str, str]], env: Mapping[str, str]) -> SetResult:
    """`config set KEY VALUE [KEY VALUE...]`: each value read by its key's type as `--set` reads it, all
    written together (so a new backend and its required settings can be set in one go)."""
    doc = read_document(paths.user_config)
    try:
        current: Config | None = load_config(paths, env=env)
    except ConfigError:
        current = None  # the file is broken: still let `config set` repair it
    new_backend = dict(assignments).get("tracker.backend")
    backend = str(new_backend or (current.get("tracker.backend") if current else None)
                  or get_value(doc, "tracker.backend") or SCHEMA["tracker.backend"].default)
    result = SetResult()
    for key, text in assignments:
        _refuse_secret(key)  # before the lookup: "unknown key" would hide why; the value is never repeated
        option = _option(key, backend)
        if option.secret:
            raise ConfigError(SECRET_HINT, key=key)
        if current is not None and current.is_locked(key):
            raise ConfigError(f"is locked by {current.locked_by(key)}; not written", key=key)
        try:
            value = parse_text(option, text, key)
        except ValueProblem as problem:
            raise ConfigError(problem.problem, key=key, expected=problem.expected,
                              suggestion=problem.suggestion) from None
        (result.changed if set_value(doc, key, value) else result.unchanged).append(key)
    config = write_document(paths, doc, env) if result.changed else load_config(paths, env=env)
    result.config = config
    for key, _ in assignments:
        origin = config.origin(key) if key in config.options else ""
        if origin.startswith("environment") or origin == "command line":
            result.overridden[key] = origin
    return result
