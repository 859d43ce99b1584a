"""Build the effective config from its layers, checking every value against its declaration.

Layers, lowest first: defaults in code, the system file (admin-managed), the user file, the
environment (REPORTER_APP_<SECTION>_<KEY>), the command line (--set section.key=value).

Locking: keys listed in the system file's `[admin] locked` keep the system file's value (or the
default). A higher layer that sets one is not an error; its value is ignored with a warning,
because refusing to start over a value that can't take effect anyway helps nobody.

Every problem found is collected; the first is raised with the others in `all_errors`.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from reporter_app.config.effective import Config, Item
from reporter_app.config.errors import ConfigError, ValueProblem, closest, describe
from reporter_app.config.locate import KeyLocator
from reporter_app.config.options import Option
from reporter_app.config.schema import (
    ENV_PREFIX,
    NON_CONFIG_ENV,
    SCHEMA,
    SECRET_HINT,
    SECRET_NOT_CONFIG,
    TABLE_ARRAYS,
    TableArray,
    check_value,
    env_name,
    expected_text,
    looks_secret,
    parse_text,
)
from reporter_app.paths import AppPaths

SYSTEM, USER, ENVIRONMENT, COMMAND_LINE = "system file", "user file", "environment", "command line"


@dataclass(frozen=True)
class _Where:
    origin: str  # what Config.origin() reports, and the start of an error line
    phrase: str  # "in <file>:<line>", for the lock warning


@dataclass(frozen=True)
class _Document:
    layer: str
    path: Path
    data: dict[str, Any]
    locator: KeyLocator

    def where(self, path: tuple[str | int, ...]) -> _Where:
        line = self.locator.line_of(path)
        origin = f"{self.path}:{line}" if line else str(self.path)
        return _Where(origin, f"in {origin}")


def read_toml(path: Path, layer: str) -> _Document | None:
    """The parsed file, or None when it does not exist (defaults apply). Raises ConfigError."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"cannot read the {layer}: {exc.strerror or exc}", where=str(path)) from None
    try:
        text = raw.decode("utf-8-sig")  # a BOM from Windows Notepad is harmless
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError("not UTF-8 text", where=f"{path}:{line}", expected="a UTF-8 encoded TOML file") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _toml_error(path, text, exc) from None
    return _Document(layer, path, data, KeyLocator(text))


_AT_LINE = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")
_PY_KEY = re.compile(r"\(((?:'[^']*'(?:, )?)+),?\)")


def _toml_error(path: Path, text: str, exc: tomllib.TOMLDecodeError) -> ConfigError:
    # Python 3.11's TOMLDecodeError only says "(at line N, column M)" inside its message.
    message = str(exc)
    match = _AT_LINE.search(message)
    if not match:
        return ConfigError(f"not valid TOML: {message}", where=str(path))
    # Its key paths read like Python: "Cannot declare ('capture',) twice" becomes "... [capture] twice",
    # and, since that happens when a table is added again at the end, we say where the first one is.
    problem, first = message[: match.start()], None
    if key := _PY_KEY.search(problem):
        parts = tuple(re.findall(r"'([^']*)'", key.group(1)))
        problem = problem[: key.start()] + "[" + ".".join(parts) + "]" + problem[key.end() :]
        before = "\n".join(text.splitlines()[: int(match.group(1)) - 1])
        first = KeyLocator(before).lines.get(parts)
    detail = f"; first declared on line {first}" if first else ""
    return ConfigError(f"not valid TOML: {problem} (column {match.group(2)}){detail}", where=f"{path}:{match.group(1)}")


def _backend_options(name: str) -> tuple[tuple[Option, ...] | None, str]:
    """The selected backend's declared settings, or None with a reason when they can't be known."""
    import reporter_app.trackers as trackers  # lazily: trackers.base imports this package

    if name not in trackers.BACKENDS:
        return None, ""  # reported as a bad tracker.backend choice
    try:
        return tuple(trackers.load_backend(name).options), ""
    except (ImportError, AttributeError) as exc:
        return None, f"tracker backend '{name}' could not be loaded ({exc}); its [tracker] settings are not checked"


def _other_backends_option(name: str, selected: str) -> tuple[str, Option] | None:
    """Which other backend declares `tracker.<name>`, to tell a leftover setting from a typo."""
    import reporter_app.trackers as trackers

    for backend in sorted(trackers.BACKENDS):
        if backend == selected:
            continue
        try:
            options = trackers.load_backend(backend).options
        except (ImportError, AttributeError):
            continue
        for option in options:
            if option.key == name:
                return backend, option
    return None


class _Builder:
    """Applies layers one by one onto the defaults; collects errors and warnings on the way."""

    def __init__(self, paths: AppPaths, backend: str) -> None:
        import reporter_app.trackers as trackers

        self.paths = paths
        self.backend = backend
        self.errors: list[ConfigError] = []
        self.warnings: list[str] = []
        self.options = dict(SCHEMA)
        # The choices follow the registry, so a backend added there needs no schema change.
        self.options["tracker.backend"] = replace(SCHEMA["tracker.backend"], choices=tuple(sorted(trackers.BACKENDS)))
        backend_options, problem = _backend_options(backend)
        self.backend_checked = backend_options is not None
        if problem:
            self.warnings.append(problem)
        for option in backend_options or ():
            self.options[f"tracker.{option.key}"] = replace(option, key=f"tracker.{option.key}")
        self.sections = {key.rsplit(".", 1)[0] for key in [*self.options, *TABLE_ARRAYS] if "." in key}
        self.sections |= {section.split(".")[0] for section in self.sections}
        self.values: dict[str, Any] = {k: o.default for k, o in self.options.items() if not o.secret}
        self.origins: dict[str, str] = dict.fromkeys(self.values, "default")
        self.locked: dict[str, str] = {}
        self.arrays: dict[str, list[Item]] = {}
        self.array_origins: dict[str, str] = {}
        default = _Where("default", "by default")
        for key, array in TABLE_ARRAYS.items():
            entries = (self._check_entry(array, dict(e), i, lambda _: default) for i, e in enumerate(array.default))
            self.arrays[key] = [Item(entry, "default") for entry in entries if entry is not None]
            self.array_origins[key] = "default"

    # ------------------------------------------------------------ locking

    def is_locked(self, key: str) -> bool:
        parts = key.split(".")
        return any(".".join(parts[:end]) in self.locked for end in range(1, len(parts) + 1))

    def _locked_by(self, key: str) -> str:
        parts = key.split(".")
        prefixes = (".".join(parts[:end]) for end in range(1, len(parts) + 1))
        return next(self.locked[prefix] for prefix in prefixes if prefix in self.locked)

    def _ignore_locked(self, key: str, where: _Where) -> None:
        self.warnings.append(f"{key} is locked by {self._locked_by(key)}; your value {where.phrase} is ignored")

    def apply_locks(self, system: _Document) -> None:
        """`[admin] locked` of the system file: every entry must name a key or a table."""
        where = system.where(("admin", "locked"))
        known = [*self.options, *TABLE_ARRAYS, *self.sections]
        for entry in self.values.get("admin.locked", ()):
            # Another backend's setting may be locked too: the admin may lock the backend next.
            tracker_key = entry.startswith("tracker.") and entry.count(".") == 1
            if (
                entry in known
                or (tracker_key and not self.backend_checked)
                or (tracker_key and _other_backends_option(entry[8:], self.backend))
            ):
                self.locked[entry] = str(system.path)
            else:
                self.error(where, "admin.locked", f"unknown key {entry!r}", "keys or tables", closest(entry, known))

    # ------------------------------------------------------------ errors

    def error(self, where: _Where, key: str, problem: str, expected: str = "", suggestion: str = "") -> None:
        self.errors.append(ConfigError(problem, where=where.origin, key=key, expected=expected, suggestion=suggestion))

    def secret(self, where: _Where, key: str, layer: str) -> None:
        # Never echo the value: it may be the very credential we refuse to keep.
        self.error(where, key, SECRET_HINT if layer in (SYSTEM, USER) else SECRET_NOT_CONFIG)

    def _suggest(self, key: str) -> str:
        known = [*self.options, *TABLE_ARRAYS]
        if found := closest(key, known):
            return found
        # "urll" alone, or under a wrong table: compare with the last part of each key.
        by_name = {k.rsplit(".", 1)[-1]: k for k in known}
        found = closest(key.rsplit(".", 1)[-1], by_name)
        return by_name[found] if found else ""

    # ------------------------------------------------------------ files

    def add_document(self, doc: _Document) -> None:
        self._walk(doc.data, "", (), doc)

    def _walk(self, table: Mapping[str, Any], prefix: str, path: tuple[str | int, ...], doc: _Document) -> None:
        for name, value in table.items():
            key = f"{prefix}.{name}" if prefix else name
            here = path + (name,)
            where = doc.where(here)
            if key == "admin" and doc.layer != SYSTEM:
                self.error(where, "admin", f"[admin] is honoured only in the system file ({self.paths.system_config})")
            elif key in self.options:
                self._set(key, value, where, doc.layer, from_text=False)
            elif key in TABLE_ARRAYS:
                self._set_array(key, value, here, doc)
            elif key in self.sections:
                if isinstance(value, dict):
                    self._walk(value, key, here, doc)
                else:
                    self.error(where, key, f"got {describe(value)}", f"a table [{key}]")
            else:
                self._unknown(key, value, where, doc.layer)

    def _unknown(self, key: str, value: Any, where: _Where, layer: str) -> None:
        section, _, name = key.rpartition(".")
        hint = self._suggest(key)
        if hint and layer == ENVIRONMENT:
            hint = env_name(hint)
        if section == "tracker" and not isinstance(value, dict):
            other = _other_backends_option(name, self.backend) if self.backend_checked else None
            if other and not other[1].secret:
                self.warnings.append(
                    f"{where.origin}: {key} is a setting of the '{other[0]}' backend, not of '{self.backend}'; ignored"
                )
            elif other or looks_secret(name):
                self.secret(where, key, layer)
            elif not self.backend_checked:
                self._keep_unchecked(key, value, where, layer)
            else:
                self.error(where, key, f"unknown key for the '{self.backend}' backend", suggestion=hint)
        elif looks_secret(name or key):
            self.secret(where, key, layer)
        elif isinstance(value, dict):
            tables = sorted(self.sections | set(TABLE_ARRAYS))
            self.error(where, key, "unknown table", suggestion=closest(key, tables))
        else:
            self.error(where, key, "unknown key", suggestion=hint)

    def _keep_unchecked(self, key: str, value: Any, where: _Where, layer: str) -> None:
        """A [tracker] value for a backend that could not be loaded: kept as written, unchecked."""
        if layer != SYSTEM and self.is_locked(key):
            self._ignore_locked(key, where)
        else:
            self.values[key] = value
            self.origins[key] = where.origin

    # ------------------------------------------------------------ values

    def _set(self, key: str, raw: Any, where: _Where, layer: str, from_text: bool) -> None:
        option = self.options[key]
        if option.secret:
            self.secret(where, key, layer)
            return
        if key.startswith("admin.") and layer != SYSTEM:
            self.error(where, key, f"[admin] is honoured only in the system file ({self.paths.system_config})")
            return
        if layer != SYSTEM and self.is_locked(key):
            self._ignore_locked(key, where)
            return
        try:
            value = parse_text(option, raw, key) if from_text else check_value(option, raw, key)
        except ValueProblem as problem:
            self.error(where, key, problem.problem, problem.expected, problem.suggestion)
            return
        self.values[key] = value
        self.origins[key] = where.origin

    def _set_array(self, key: str, raw: Any, path: tuple[str | int, ...], doc: _Document) -> None:
        array = TABLE_ARRAYS[key]
        where = doc.where(path)
        if doc.layer != SYSTEM and self.is_locked(key):
            self._ignore_locked(key, where)
            return
        if not isinstance(raw, list) or not all(isinstance(entry, dict) for entry in raw):
            self.error(where, key, f"got {describe(raw)}", f"an array of tables, each written [[{key}]]")
            return
        items: list[Item] = []
        seen: dict[Any, str] = {}
        for index, entry in enumerate(raw):
            checked = self._check_entry(array, entry, index, lambda rel: doc.where(path + rel))
            if checked is None:
                continue
            entry_where = doc.where(path + (index,))
            if array.merge_by:
                ident = checked[array.merge_by]
                if ident in seen:
                    self.error(entry_where, f"{key}[{ident}]", f"duplicate {array.merge_by}, first at {seen[ident]}")
                    continue
                seen[ident] = entry_where.origin
            items.append(Item(checked, entry_where.origin))
        if array.merge_by is None:
            self.arrays[key] = items
        else:
            # Same name replaces the lower layer's entry in place; new names are added at the end.
            merged = {item.value[array.merge_by]: item for item in self.arrays[key]}
            merged.update({item.value[array.merge_by]: item for item in items})
            self.arrays[key] = list(merged.values())
        self.array_origins[key] = where.origin

    def _check_entry(
        self, array: TableArray, entry: dict[str, Any], index: int, where_of: Callable[[tuple[str | int, ...]], _Where]
    ) -> dict[str, Any] | None:
        """The entry with its values checked and defaults filled in (absent optional fields stay absent)."""
        fields = {option.key: option for option in array.fields}
        ident = entry.get(array.merge_by or "")
        label = f"{array.key}[{ident}]" if isinstance(ident, str) and ident else f"{array.key}[#{index + 1}]"
        checked: dict[str, Any] = {}
        ok = True
        for name, value in entry.items():
            where = where_of((index, name))
            if name not in fields:
                problem = SECRET_HINT if looks_secret(name) else "unknown key"
                hint = closest(name, fields)
                self.error(where, f"{label}.{name}", problem, suggestion=f"{array.key}.{hint}" if hint else "")
                ok = False
                continue
            try:
                checked[name] = check_value(fields[name], value, f"{array.key}.{name}")
            except ValueProblem as problem:
                self.error(where, f"{label}.{name}", problem.problem, problem.expected, problem.suggestion)
                ok = False
        for option in array.fields:
            if option.key in entry:
                continue
            if option.required:
                self.error(where_of((index,)), label, f"missing required key '{option.key}'", expected_text(option))
                ok = False
            elif option.default is not None:
                checked[option.key] = option.default
        if not ok:
            return None
        try:
            if array.check_entry:
                array.check_entry(checked)
        except ValueProblem as problem:
            self.error(where_of((index,)), label, problem.problem, problem.expected, problem.suggestion)
            return None
        return checked

    # ------------------------------------------------------------ environment and command line

    def add_environment(self, env: Mapping[str, str]) -> None:
        by_name = {env_name(key): key for key in self.options}
        arrays = {env_name(key): key for key in TABLE_ARRAYS}
        tables = {section.split(".")[0].upper() for section in self.sections}
        for name in sorted(env):
            if not name.startswith(ENV_PREFIX) or name in NON_CONFIG_ENV:
                continue
            where = _Where(f"environment {name}", f"in environment {name}")
            rest = name[len(ENV_PREFIX) :]
            if name in by_name:
                self._set(by_name[name], env[name], where, ENVIRONMENT, from_text=True)
            elif name in arrays:
                self.error(where, arrays[name], "arrays of tables can't be set from the environment; use a config file")
            elif rest.startswith("TRACKER_"):
                self._unknown(f"tracker.{rest[8:].lower()}", env[name], where, ENVIRONMENT)
            elif any(rest.startswith(table + "_") for table in tables) or closest_env(rest, by_name, 0.8):
                # Named like a setting but none of ours: a typo that would otherwise be silently ignored.
                self.error(where, "", "unknown setting", suggestion=closest_env(rest, by_name, 0.6))
            # Anything else under the prefix is not ours to judge (other tools, tests).

    def add_overrides(self, overrides: Iterable[str]) -> None:
        where = _Where(COMMAND_LINE, "on the command line")
        for item in overrides:
            key, sep, text = item.partition("=")
            key = key.strip()
            if not sep or not key:
                self.error(where, "", f"--set {item!r} has no '='", "section.key=value")
            elif key in self.options:
                self._set(key, text, where, COMMAND_LINE, from_text=True)
            elif key in TABLE_ARRAYS:
                self.error(where, key, "arrays of tables can't be set on the command line; use a config file")
            else:
                self._unknown(key, text, where, COMMAND_LINE)

    def check_required(self) -> None:
        """A backend's required setting must be set somewhere; point at where the backend was chosen."""
        for key, option in self.options.items():
            if option.required and not option.secret and self.values.get(key) in (None, "", ()):
                origin = self.origins["tracker.backend"]
                where = _Where("" if origin == "default" else origin, "")
                self.error(where, key, f"required by the '{self.backend}' tracker backend", expected_text(option))


def closest_env(rest: str, by_name: Mapping[str, str], cutoff: float) -> str:
    """The known variable a misspelt one meant; compares without the shared prefix, which would match anything."""
    import difflib

    names = {name[len(ENV_PREFIX) :]: name for name in by_name}
    found = difflib.get_close_matches(rest, list(names), n=1, cutoff=cutoff)
    return names[found[0]] if found else ""


def _chosen_backend(docs: Sequence[_Document], env: Mapping[str, str], overrides: Sequence[str]) -> str:
    """tracker.backend decides which keys exist under [tracker], so it is settled before the rest."""
    candidates: list[tuple[str, Any]] = []
    for doc in docs:
        tracker = doc.data.get("tracker")
        if isinstance(tracker, dict) and "backend" in tracker:
            candidates.append((doc.layer, tracker["backend"]))
    if "REPORTER_APP_TRACKER_BACKEND" in env:
        candidates.append((ENVIRONMENT, env["REPORTER_APP_TRACKER_BACKEND"].strip()))
    for item in overrides:
        key, sep, value = item.partition("=")
        if sep and key.strip() == "tracker.backend":
            candidates.append((COMMAND_LINE, value.strip()))
    system = next((doc for doc in docs if doc.layer == SYSTEM), None)
    admin = system.data.get("admin") if system else None
    locked = admin.get("locked") if isinstance(admin, dict) else None
    if isinstance(locked, list) and ("tracker" in locked or "tracker.backend" in locked):
        candidates = [c for c in candidates if c[0] == SYSTEM]
    chosen = [value for _, value in candidates if isinstance(value, str)]
    return chosen[-1] if chosen else str(SCHEMA["tracker.backend"].default)


def load_config(
    paths: AppPaths,
    env: Mapping[str, str] | None = None,
    overrides: Sequence[str] = (),
    *,
    system_only: bool = False,
) -> Config:
    """The effective config. `system_only` reads just defaults and the system file, as `config check --system`.

    Raises ConfigError (with every problem found in `all_errors`).
    """
    env = os.environ if env is None else env
    errors: list[ConfigError] = []
    docs: list[_Document] = []
    layers = [(SYSTEM, paths.system_config)] + ([] if system_only else [(USER, paths.user_config)])
    for layer, path in layers:
        try:
            doc = read_toml(path, layer)
        except ConfigError as exc:
            errors.append(exc)
            continue
        if doc is not None:
            docs.append(doc)
    if system_only:
        env, overrides = {}, ()

    builder = _Builder(paths, _chosen_backend(docs, env, overrides))
    for doc in docs:
        builder.add_document(doc)
        if doc.layer == SYSTEM:
            builder.apply_locks(doc)
    builder.add_environment(env)
    builder.add_overrides(overrides)
    if builder.backend_checked:
        builder.check_required()

    errors += builder.errors
    if errors:
        first = errors[0]
        first.all_errors = tuple(errors)
        raise first
    return Config(
        paths=paths,
        options=builder.options,
        values=builder.values,
        origins=builder.origins,
        arrays={key: tuple(items) for key, items in builder.arrays.items()},
        array_origins=builder.array_origins,
        locked=builder.locked,
        warnings=tuple(builder.warnings),
        files=tuple(doc.path for doc in docs),
    )
