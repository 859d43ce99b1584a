"""Every setting, declared once: type, default, description, choices.

`SCHEMA` holds the keys of plain tables ("tracker.url"); `TABLE_ARRAYS` the arrays of tables
(`[[logs]]`, `[[privacy.rules]]`, `[[priority.rules]]`), whose fields are Options too. Their
entries stay checked plain tables (`severity.py` and `capture.scrub` build their own objects
from them); `[[logs]]` is also offered typed, as `Config.logs`. A tracker backend's own
settings are declared on the backend class and joined under `[tracker]` by the loader.
`resources/default-config.toml` and `docs/configuration.md` describe these keys; a test keeps
them in step.
"""

from __future__ import annotations

import contextlib
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import timedelta
from typing import Any

from reporter_app.config.errors import ValueProblem, closest, describe
from reporter_app.config.options import Option
from reporter_app.model import Impact, Priority, Reach, Role
from reporter_app.severity import DEFAULT_RULES


def _values(enum: Any) -> tuple[str, ...]:
    return tuple(member.value for member in enum)


# ---------------------------------------------------------------- typed values


@dataclass(frozen=True)
class LogSource:
    """One `[[logs]]` entry: a file glob or a journal unit whose tail goes into the report."""

    name: str
    path: str = ""  # glob; "~" is expanded by the log reader, not here
    journal: str = ""  # systemd unit or syslog identifier
    journal_file: str = ""  # with journal: a journal file or directory instead of the system journal
    lines: int = 500
    minutes: int = 0  # 0: no time limit
    max_bytes: int = 1_048_576
    max_line_length: int = 4096


@dataclass(frozen=True)
class Duration:
    """An SLA target. Calendar time ("4h", "3d", "1d12h") or business days ("2bd"), never both."""

    text: str
    delta: timedelta = timedelta(0)
    business_days: int = 0


@dataclass(frozen=True)
class SlaTarget:
    first_response: Duration | None
    resolution: Duration | None


_DURATION_PART = re.compile(r"(\d+)(w|d|h|m)")
_UNIT_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60}
DURATION_FORMAT = "a duration like '30m', '4h', '3d', '1w', '1d12h' or '2bd' (business days), or '' for none"


def parse_duration(text: str) -> Duration | None:
    """"" means no target. Raises ValueProblem for anything else that is not a duration."""
    compact = text.strip().lower().replace(" ", "")
    if not compact:
        return None
    business = re.fullmatch(r"(\d+)bd", compact)
    if business:
        if int(business.group(1)) == 0:
            raise ValueProblem(f"{text!r} is zero", DURATION_FORMAT)
        return Duration(text, business_days=int(business.group(1)))
    position, seconds = 0, 0
    for match in _DURATION_PART.finditer(compact):
        if match.start() != position:
            break
        seconds += int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        position = match.end()
    if position != len(compact) or position == 0:
        raise ValueProblem(f"{text!r} is not a duration", DURATION_FORMAT)
    if seconds == 0:
        raise ValueProblem(f"{text!r} is zero", DURATION_FORMAT)
    return Duration(text, delta=timedelta(seconds=seconds))


# ---------------------------------------------------------------- extra checks by key

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _check_name(value: Any) -> None:
    # A log source name becomes `logs/<name>.txt` inside the bundle: no separators, no "..".
    if not _NAME.fullmatch(value) or len(value) > 64:
        raise ValueProblem(
            f"{value!r} is not a usable name", "letters, digits, '.', '_' or '-' (up to 64, not starting with '.')"
        )


def _check_regex(value: Any) -> None:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueProblem(f"bad regular expression: {exc}", "a Python regular expression") from None


def _check_regexes(value: Any) -> None:
    for item in value:
        _check_regex(item)


def _check_duration(value: Any) -> None:
    parse_duration(value)


_FINGERPRINT = re.compile(r"brfp-[0-9a-f]{12}")


def _check_fingerprint(value: Any) -> None:
    if value and not _FINGERPRINT.fullmatch(value):
        raise ValueProblem(f"{value!r} is not a fingerprint", "'brfp-' and 12 hex digits (`reporter-app fingerprint`)")


def _check_calendar(**setting: Any) -> None:
    # The same parser the SLA clock uses, so config check and the clock never disagree.
    from reporter_app.tracking.business_hours import calendar_from_settings

    try:
        calendar_from_settings(**setting)
    except ValueError as exc:
        raise ValueProblem(str(exc), _CALENDAR_HINTS[next(iter(setting))]) from None


_CALENDAR_HINTS = {"hours": "'HH:MM-HH:MM' like '09:00-17:00', or '' for whole days",
                   "days": "weekdays among mon, tue, wed, thu, fri, sat, sun",
                   "zone": "an IANA time zone like 'Europe/Berlin', or '' for UTC",
                   "holidays": "dates like '2026-12-25'"}


def _check_business_hours(value: Any) -> None:
    _check_calendar(hours=value)


def _check_business_days(value: Any) -> None:
    if not value:
        raise ValueProblem("no business days", _CALENDAR_HINTS["days"])
    _check_calendar(days=list(value))


def _check_time_zone(value: Any) -> None:
    _check_calendar(zone=value)


def _check_holidays(value: Any) -> None:
    _check_calendar(holidays=list(value))


def _check_hotkey(value: Any) -> None:
    # Qt parses the sequence itself; catch only what is surely wrong, like "Ctrl++" or "Ctrl+".
    if value and any(not part.strip() for part in value.split("+")):
        raise ValueProblem(f"{value!r} is not a key combination", "keys joined by '+', like 'Ctrl+Alt+B', or ''")


# ---------------------------------------------------------------- the plain keys

_ENV_ALLOWLIST = (
    "LANG",
    "LC_ALL",
    "XDG_SESSION_TYPE",
    "XDG_CURRENT_DESKTOP",
    "DESKTOP_SESSION",
    "QT_SCALE_FACTOR",
    "QT_QPA_PLATFORM",
    "GDK_SCALE",
    "WAYLAND_DISPLAY",
    "DISPLAY",
)

# Password managers and keyrings: never in a replay, even before the user thinks of listing them.
_REPLAY_EXCLUDED = ("keepass", "1password", "bitwarden", "lastpass", "enpass", "seahorse", "kwalletmanager")

_SLA_DEFAULTS = {"P1": ("1h", "24h"), "P2": ("4h", "3d"), "P3": ("2bd", "14d"), "P4": ("", "")}

_OPTIONS: tuple[Option, ...] = (
    Option("reporter.name", str, "", "Your name, as it appears on the tickets you file."),
    Option("reporter.email", str, "", "Where the tracker can reach you about your reports."),
    Option(
        "reporter.role",
        str,
        "qa",
        "qa: tester, files often; stakeholder: short plain form; support: files for customers and follows status.",
        choices=_values(Role),
    ),
    Option(
        "hotkey.report",
        str,
        "Ctrl+Alt+B",
        "Global shortcut that opens the report form; '' turns it off (on Wayland bind `reporter-app report --gui`).",
    ),
    Option("tracker.backend", str, "local", "Where reports go; 'local' is a folder that works offline."),
    Option("tracker.url", str, "", "Base address of the tracker (not used by 'local')."),
    Option("tracker.project", str, "", "Project, repository or board the reports are filed in."),
    Option("tracker.timeout_seconds", float, 30.0, "Network timeout for one tracker request.", minimum=1, maximum=600),
    Option(
        "capture.screenshot",
        str,
        "cursor-monitor",
        "Which screen goes into the report: the monitor under the mouse, all monitors, or none.",
        choices=("cursor-monitor", "all-monitors", "none"),
    ),
    Option(
        "capture.activity_events",
        int,
        20,
        "How many recent clicks and key presses (no typed text) are kept as repro steps; 0 turns it off.",
        minimum=0,
        maximum=1000,
    ),
    Option(
        "capture.env_allowlist",
        list,
        _ENV_ALLOWLIST,
        "Environment variables copied into the report; nothing else from the environment is sent.",
    ),
    # Screen replay (capture/replay.py, docs/replay.md): off by default, it keeps recording the screen.
    Option("replay.enabled", bool, False, "Keep the last seconds of the screen in memory, to attach as a video."),
    Option("replay.seconds", int, 30, "How many seconds the replay keeps.", minimum=5, maximum=120),
    Option("replay.fps", float, 2.0, "Frames per second recorded.", minimum=0.5, maximum=10),
    Option("replay.monitor", str, "cursor-monitor", "Which screen is recorded: the monitor under the mouse, or all.",
           choices=("cursor-monitor", "all-monitors")),
    Option("replay.exclude_windows", list, _REPLAY_EXCLUDED,
           "Recording pauses while a window whose class, program or title matches one of these regexes has focus."),
    Option("privacy.scrub_emails", bool, True, "Replace e-mail addresses in logs and text with a visible marker."),
    Option("privacy.scrub_ips", bool, False, "Replace IP addresses in logs and text (they are often the bug itself)."),
    Option("privacy.scrub_home", bool, True, "Replace your home directory path (and so your user name) in logs."),
    Option("privacy.review_before_send", bool, True, "Show what will be sent, editable, before it leaves the machine."),
    Option("report.components", list, (), "Components offered in the form; empty hides the field."),
    Option(
        "report.default_impact",
        str,
        "",
        "Impact preselected in the form; '' makes the reporter choose.",
        choices=("", *_values(Impact)),
    ),
    *(
        option
        for level, (first, resolution) in _SLA_DEFAULTS.items()
        for option in (
            Option(f"sla.{level}.first_response", str, first, f"Target time to a first answer for {level}; '' = none."),
            Option(f"sla.{level}.resolution", str, resolution, f"Target time to a fix for {level}; '' = none."),
        )
    ),
    # The calendar behind business-day targets ("2bd"); read by reporter_app/tracking/business_hours.py.
    Option("sla.business_hours", str, "", "Opening hours of a business day, like '09:00-17:00'; '' = whole days."),
    Option("sla.business_days", list, ("mon", "tue", "wed", "thu", "fri"), "Weekdays that are business days."),
    Option("sla.time_zone", str, "", "Time zone of the business hours, like 'Europe/Berlin'; '' = UTC."),
    Option("sla.holidays", list, (), "Days off that are not business days, as 'YYYY-MM-DD'."),
    Option(
        "outbox.base_backoff_seconds",
        float,
        5.0,
        "First retry delay after a transient failure; it doubles each time.",
        minimum=0.1,
        maximum=3600,
    ),
    Option(
        "outbox.max_backoff_seconds",
        int,
        3600,
        "Longest wait between two retries (a tracker's Retry-After can ask for more).",
        minimum=1,
        maximum=7 * 86400,
    ),
    Option(
        "status.poll_interval_seconds",
        int,
        300,
        "How often the status of your open reports is checked.",
        minimum=30,
        maximum=86400,
    ),
    Option("status.notify", bool, True, "Tray notification when a report changes status or gets a comment."),
    # Error detection (reporter_app/detect, docs/fingerprint.md). Off by default: watching someone's logs
    # and interrupting them is something they (or their admin) turn on, not a surprise after installing.
    Option("detect.enabled", bool, False, "Watch the [[logs]] files for errors and offer a pre-filled report."),
    Option(
        "detect.auto",
        bool,
        False,
        "File detected errors without asking (rate-limited by auto_max_per_hour); false: ask first.",
    ),
    Option("detect.sources", list, (), "Names of [[logs]] entries to watch; empty: every entry with a path."),
    Option("detect.single_lines", bool, True, "Single ERROR/FATAL lines count as errors too; false: traces only."),
    Option("detect.occurrences", int, 1, "Times an error must happen within window_minutes before it is raised.",
           minimum=1, maximum=10_000),
    Option("detect.window_minutes", float, 10.0, "The window for occurrences.", minimum=0.1, maximum=10_080),
    Option("detect.cooldown_minutes", float, 30.0, "After an alert, the same error stays quiet this long.",
           minimum=0, maximum=10_080),
    Option("detect.auto_max_per_hour", int, 3, "Automatic filings per hour; over it, the app asks instead.",
           minimum=0, maximum=1000),
    Option("detect.occurrence_interval_minutes", float, 10.0,
           "Repeats of an error that has a ticket become '+1' notes on it: at most one per error this often "
           "(the note says how many); 0: one note per repeat.", minimum=0, maximum=10_080),
    Option(
        "logging.level",
        str,
        "info",
        "Detail of reporter-app's own log file.",
        choices=("debug", "info", "warning", "error"),
    ),
    Option(
        "admin.locked",
        list,
        (),
        "System file only: keys (or whole tables) users cannot change; their values come from the system file.",
    ),
)

SCHEMA: dict[str, Option] = {option.key: option for option in _OPTIONS}

# ---------------------------------------------------------------- arrays of tables


@dataclass(frozen=True)
class TableArray:
    key: str
    description: str
    fields: tuple[Option, ...]  # keys relative to one entry: "name", not "logs.name"
    default: tuple[Mapping[str, Any], ...]
    # Checks across the fields of one entry; raises ValueProblem.
    check_entry: Callable[[dict[str, Any]], None] | None
    # Entries with the same value here replace the lower layer's entry, others are added;
    # None: a layer that sets the array replaces it whole (order matters there).
    merge_by: str | None


def _check_log(entry: dict[str, Any]) -> None:
    if bool(entry.get("path")) == bool(entry.get("journal")):
        raise ValueProblem("needs exactly one of 'path' or 'journal'", "path = \"<glob>\" or journal = \"<unit>\"")
    if entry.get("journal_file") and not entry.get("journal"):
        raise ValueProblem("has 'journal_file' without 'journal'", "journal = \"<unit>\" beside journal_file")
    if entry.get("journal"):
        from capture.logs import parse_journal_match  # the parser the log tail and the watcher use

        try:
            parse_journal_match(str(entry["journal"]))
        except ValueError as exc:
            raise ValueProblem(f"has a bad 'journal': {exc}", "journal = \"unit:NAME\" or \"identifier:NAME\"") \
                from exc


def _check_detect_rule(entry: dict[str, Any]) -> None:
    if entry.get("fingerprint") and entry.get("pattern"):
        raise ValueProblem("has both 'fingerprint' and 'pattern'", "one of them, or neither to match every error")


_LOG_DEFAULTS = {f.name: f.default for f in fields(LogSource)
                 if f.name not in ("name", "path", "journal", "journal_file")}

TABLE_ARRAYS: dict[str, TableArray] = {
    array.key: array
    for array in (
        TableArray(
            "privacy.rules",
            "Extra scrub patterns (Python regular expressions), applied after the built-in ones.",
            (
                Option("name", str, None, "Shown in the marker that replaces a match: [name].", required=True),
                Option("pattern", str, None, "Python regular expression.", required=True),
            ),
            default=(),
            check_entry=None,
            merge_by="name",
        ),
        TableArray(
            "logs",
            "Log files or journal units whose last lines are attached to every report.",
            (
                Option("name", str, None, "Short name; the file in the report is logs/<name>.txt.", required=True),
                Option("path", str, "", "File glob, '~' allowed; the newest match is read."),
                Option("journal", str, "", "systemd unit or syslog identifier (Linux)."),
                Option("journal_file", str, "",
                       "With journal: read this journal file or directory (e.g. a container's) instead of the "
                       "system journal; '~' allowed."),
                Option("lines", int, _LOG_DEFAULTS["lines"], "Keep at most this many last lines.", minimum=1,
                       maximum=1_000_000),
                Option("minutes", int, _LOG_DEFAULTS["minutes"], "Only lines from the last N minutes; 0 = no limit.",
                       minimum=0, maximum=525_600),
                Option("max_bytes", int, _LOG_DEFAULTS["max_bytes"], "Size cap after trimming.", minimum=1,
                       maximum=104_857_600),
                Option("max_line_length", int, _LOG_DEFAULTS["max_line_length"], "Longer lines are cut.",
                       minimum=16, maximum=1_048_576),
            ),
            default=(),
            check_entry=_check_log,
            merge_by="name",
        ),
        TableArray(
            "detect.rules",
            "Alert rules for detected errors; fingerprint rules first, then pattern rules in order, else [detect].",
            (
                Option("name", str, None, "Names the rule; a layer's rule with the same name replaces it.",
                       required=True),
                Option("fingerprint", str, "", "Exactly this error (a brfp-... id from `reporter-app fingerprint`)."),
                Option("pattern", str, "", "Python regular expression searched in the error's text."),
                # Absent fields take the [detect] value (None defaults stay absent in the entry).
                Option("occurrences", int, None, "Times within window_minutes before it is raised.", minimum=1,
                       maximum=10_000),
                Option("window_minutes", float, None, "The window for occurrences.", minimum=0.1, maximum=10_080),
                Option("cooldown_minutes", float, None, "Quiet time after an alert.", minimum=0, maximum=10_080),
                Option("action", str, None, "prompt: ask; auto: file without asking; ignore: never raise it.",
                       choices=("prompt", "auto", "ignore")),
            ),
            default=(),
            check_entry=_check_detect_rule,
            merge_by="name",
        ),
        TableArray(
            "priority.rules",
            "Suggest a priority from impact, reach and thresholds; the first matching rule wins.",
            (
                Option("impact", str, None, "Matches this impact only.", choices=_values(Impact)),
                Option("reach", str, None, "Matches this reach only.", choices=_values(Reach)),
                Option("min_users", int, None, "Matches when at least this many users are affected.", minimum=0),
                Option("money_lost", bool, None, "Matches when money is (true) or is not (false) being lost."),
                Option("priority", str, None, "The suggested priority.", choices=_values(Priority), required=True),
                Option("reason", str, "", "Shown next to the suggestion."),
            ),
            # Declared once, in reporter_app.severity, where they are applied.
            default=tuple(rule.as_mapping() for rule in DEFAULT_RULES),
            check_entry=None,
            merge_by=None,
        ),
    )
}

# Checks beyond type, choices and range, by key ("logs.name" is the name field of [[logs]]).
EXTRA_CHECKS: dict[str, Callable[[Any], None]] = {
    "hotkey.report": _check_hotkey,
    "logs.name": _check_name,
    "privacy.rules.name": _check_name,
    "privacy.rules.pattern": _check_regex,
    "replay.exclude_windows": _check_regexes,
    "detect.rules.name": _check_name,
    "detect.rules.pattern": _check_regex,
    "detect.rules.fingerprint": _check_fingerprint,
    **{key: _check_duration for key in SCHEMA if key.startswith("sla.P")},
    "sla.business_hours": _check_business_hours,
    "sla.business_days": _check_business_days,
    "sla.time_zone": _check_time_zone,
    "sla.holidays": _check_holidays,
}

# Not config keys: where config lives, and the one secret that may come from the environment.
NON_CONFIG_ENV = frozenset({"REPORTER_APP_HOME", "REPORTER_APP_SYSTEM_CONFIG", "REPORTER_APP_TRACKER_TOKEN"})
ENV_PREFIX = "REPORTER_APP_"

SECRET_HINT = "secrets never live in config files; use `reporter-app login` or REPORTER_APP_TRACKER_TOKEN"
SECRET_NOT_CONFIG = "a secret is never a config value; use `reporter-app login` or REPORTER_APP_TRACKER_TOKEN"
_SECRET_WORDS = ("token", "password", "passwd", "secret", "api_key", "apikey", "private_key")


def looks_secret(name: str) -> bool:
    """A key nobody declared but whose name says it holds a credential: refuse it rather than keep it."""
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_WORDS)


def env_name(key: str) -> str:
    return ENV_PREFIX + key.replace(".", "_").replace("-", "_").upper()


# ---------------------------------------------------------------- checking values

_TYPE_WORDS: dict[type, str] = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true or false",
    list: "a list of strings",
}


def _types(option: Option) -> tuple[type, ...]:
    return option.type if isinstance(option.type, tuple) else (option.type,)


def expected_text(option: Option) -> str:
    """What a valid value looks like, for the "expected ..." part of an error."""
    if option.choices:
        return "one of " + ", ".join(repr(choice) for choice in option.choices)
    words = " or ".join(_TYPE_WORDS.get(kind, kind.__name__) for kind in _types(option))
    low, high = option.minimum, option.maximum
    if low is not None and high is not None:
        return f"{words} from {_number(low)} to {_number(high)}"
    if low is not None:
        return f"{words} of at least {_number(low)}"
    if high is not None:
        return f"{words} of at most {_number(high)}"
    return words


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _convert(kind: type, value: Any) -> Any:
    """The value as `kind`, or raise TypeError. TOML's bool is not an integer here."""
    if kind is bool and isinstance(value, bool):
        return value
    if kind is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
        if value != value:  # NaN passes every range check otherwise
            raise TypeError
        return float(value)
    if kind is str and isinstance(value, str):
        return value
    if kind is list and isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise TypeError


def check_value(option: Option, value: Any, key: str | None = None) -> Any:
    """A value read from TOML, checked against its declaration. Raises ValueProblem."""
    for kind in _types(option):
        try:
            converted = _convert(kind, value)
            break
        except TypeError:
            continue
    else:
        raise ValueProblem(f"got {describe(value)}", expected_text(option))
    if option.choices and converted not in option.choices:
        raise ValueProblem(
            f"{converted!r} is not a valid choice",
            expected_text(option),
            closest(str(converted), option.choices),
        )
    if isinstance(converted, int | float) and not isinstance(converted, bool):
        too_low = option.minimum is not None and converted < option.minimum
        too_high = option.maximum is not None and converted > option.maximum
        if too_low or too_high:
            raise ValueProblem(f"{converted} is out of range", expected_text(option))
    check = EXTRA_CHECKS.get(key or option.key)
    if check is not None:
        check(converted)
    return converted


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def parse_text(option: Option, text: str, key: str | None = None) -> Any:
    """A value typed as text (environment, --set), parsed by the option's type, then checked."""
    kinds = _types(option)
    stripped = text.strip()
    value: Any = text
    if list in kinds:
        if stripped.startswith("["):
            try:
                value = tomllib.loads(f"v = {stripped}")["v"]
            except tomllib.TOMLDecodeError:
                raise ValueProblem(f"{text!r} is not a list", "comma-separated words or a TOML array") from None
        else:
            value = [item.strip() for item in text.split(",") if item.strip()]
    elif bool in kinds and stripped.lower() in _TRUE | _FALSE:
        value = stripped.lower() in _TRUE
    elif bool in kinds:
        raise ValueProblem(f"got {text!r}", "one of 1, 0, true, false, yes, no, on, off")
    elif int in kinds and re.fullmatch(r"[+-]?\d[\d_]*", stripped):
        value = int(stripped.replace("_", ""))
    elif float in kinds:
        with contextlib.suppress(ValueError):  # not a number: check_value says so, with the text
            value = float(stripped)
    return check_value(option, value, key)
