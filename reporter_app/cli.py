"""`reporter-app`: the tray app with no verb; headless verbs for everything else.

Exit codes: 0 ok, 1 failure with a one-line reason on stderr, 2 usage. The GUI is imported only
here, lazily, so every other verb runs without a display.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from reporter_app import __version__
from reporter_app.bundle import BundleError
from reporter_app.model import Impact, Priority, Reach

log = logging.getLogger("reporter_app")


class CliError(Exception):
    """A failure the user can act on: printed as one line, exit 1."""


def _common(parser: argparse.ArgumentParser, suppress: bool) -> None:
    default: Any = argparse.SUPPRESS if suppress else None
    parser.add_argument("--home", metavar="DIR", default=default,
                        help="keep config and data under DIR (same as REPORTER_APP_HOME)")
    parser.add_argument("--set", metavar="KEY=VALUE", action="append", dest="overrides",
                        default=argparse.SUPPRESS if suppress else [],
                        help="override a setting for this run, e.g. --set tracker.backend=local")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reporter-app", description="Report a problem, then follow what happens to it.")
    parser.add_argument("--version", action="version", version=f"reporter-app {__version__} ({_build()})")
    _common(parser, suppress=False)
    verbs = parser.add_subparsers(dest="verb", metavar="VERB")

    def verb(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = verbs.add_parser(name, help=help_text, description=help_text)
        _common(sub, suppress=True)
        return sub

    report = verb("report", "file one report (headless unless --gui)")
    report.add_argument("--title", help="one line that says what went wrong (required without --gui)")
    report.add_argument("--description", default="", help="what happened")
    report.add_argument("--expected", default="", help="what you expected instead")
    report.add_argument("--steps", default="", help="steps to reproduce")
    report.add_argument("--impact", choices=[i.value for i in Impact], help="how bad it is for you")
    report.add_argument("--reach", choices=[r.value for r in Reach], default=Reach.JUST_ME.value,
                        help="who is affected")
    report.add_argument("--priority", choices=[p.value for p in Priority],
                        help="engineering priority (roles qa and support only; else suggested)")
    report.add_argument("--component", default="")
    report.add_argument("--users-affected", type=int, metavar="N")
    report.add_argument("--money-lost", action="store_true")
    report.add_argument("--attach", action="append", default=[], metavar="FILE", help="attach a file (repeatable)")
    report.add_argument("--no-screenshot", action="store_true", help="do not take a screenshot")
    report.add_argument("--no-send", action="store_true", help="only queue it; the app sends it later")
    report.add_argument("--gui", action="store_true", help="open the report form instead")

    status = verb("status", "what happened to my reports (or one ticket)")
    status.add_argument("ticket", nargs="?", help="a ticket key (e.g. LOCAL-3) or a report id")
    status.add_argument("--json", action="store_true", help="machine-readable output")

    outbox = verb("outbox", "reports waiting to be sent")
    outbox_verbs = outbox.add_subparsers(dest="outbox_verb", metavar="ACTION")
    outbox_list = outbox_verbs.add_parser("list", help="list the queue (default)")
    outbox_list.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output")
    retry = outbox_verbs.add_parser("retry", help="send now what is waiting or needs attention")
    retry.add_argument("id", nargs="?", help="one report id (a unique prefix is enough); default: all")
    drop = outbox_verbs.add_parser("drop", help="remove a report from the queue (its files are kept)")
    drop.add_argument("id")
    outbox.add_argument("--json", action="store_true", help="machine-readable output")

    verb("doctor", "check config, data dir, keyring, tracker and screenshot")

    config = verb("config", "show, check, create, change or locate the configuration")
    config_verbs = config.add_subparsers(dest="config_verb", metavar="ACTION")
    config_verbs.add_parser("show", help="the effective configuration, with where each value came from")
    check = config_verbs.add_parser("check", help="validate the configuration files")
    check.add_argument("--system", action="store_true", help="check only the admin-managed system file")
    init = config_verbs.add_parser("init", help="write a commented user config file")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    config_verbs.add_parser("path", help="where the config and data live")
    set_verb = config_verbs.add_parser("set", help="change settings in the user file (its comments are kept)")
    set_verb.add_argument("pairs", nargs="+", metavar="KEY VALUE", help="e.g. hotkey.report Ctrl+Alt+R")

    verb("login", "store the tracker's token in the OS keyring")

    stats = verb("stats", "response and resolution times, SLA compliance, reopen rate")
    stats.add_argument("--since", metavar="WHEN", help="e.g. 30d, 2w, 2026-01-01 (default: everything)")
    stats_format = stats.add_mutually_exclusive_group()
    stats_format.add_argument("--json", action="store_const", const="json", dest="format")
    stats_format.add_argument("--csv", action="store_const", const="csv", dest="format")

    follow = verb("follow", "follow any ticket by key (support staff): status, comments, SLA")
    follow.add_argument("ticket", help="a ticket key, e.g. LOCAL-3 or #42")

    fingerprint = verb("fingerprint", "print the fingerprint of every error found in a log file; "
                                      "list or end mutes and snoozes")
    fingerprint.add_argument("file", nargs="?")
    fingerprint.add_argument("--lines", action="store_true", help="one fingerprint per input line instead")
    silenced = fingerprint.add_mutually_exclusive_group()
    silenced.add_argument("--muted", action="store_true", help="list the errors muted or snoozed in the app")
    silenced.add_argument("--unmute", metavar="FP", help="end the mute or snooze of this fingerprint")
    return parser


def _build() -> str:
    """`source` from a checkout; in a bundle, `build <date> git <commit>, <os>-<arch>` (installer/reporter-app.spec)."""
    if not getattr(sys, "frozen", False):
        return "source"
    from importlib import resources

    try:
        info = resources.files("reporter_app").joinpath("BUILD_INFO").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        info = ""
    return f"build {info}" if info else "frozen"


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args, sys.stdout)
    except CliError as exc:
        print(f"reporter-app: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _context(args: argparse.Namespace) -> Any:
    from reporter_app.app import AppContext
    from reporter_app.config import ConfigError
    from reporter_app.outbox import OutboxError

    try:
        ctx = AppContext.load(home=args.home, overrides=args.overrides or ())
    except ConfigError as exc:
        raise CliError(str(exc)) from exc
    _setup_file_logging(ctx.paths.log_file)
    try:
        ctx.outbox  # noqa: B018 - opening it here turns a broken database into a clear message
    except OutboxError as exc:
        raise CliError(str(exc)) from exc
    return ctx


def _setup_file_logging(path: Any) -> None:
    from logging.handlers import RotatingFileHandler

    root = logging.getLogger("reporter_app")
    if any(isinstance(h, RotatingFileHandler) for h in root.handlers):
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(path, maxBytes=1_000_000, backupCount=3, encoding="utf-8")
    except OSError:
        # A read-only data dir must not stop the CLI, nor spray log lines over its one-line errors.
        root.addHandler(logging.NullHandler())
        return
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def _dispatch(args: argparse.Namespace, out: TextIO) -> int:
    verb = args.verb
    if verb is None:
        return _run_gui(args, open_form=False)
    if verb == "config":
        return _config(args, out)
    if verb == "fingerprint":  # text processing, or the snooze/mute file: no config
        return _fingerprint(args, out)
    if verb == "report" and args.gui:
        return _run_gui(args, open_form=True)
    ctx = _context(args)
    handlers = {"report": _report, "status": _status, "outbox": _outbox, "doctor": _doctor, "login": _login,
                "stats": _stats, "follow": _follow}
    return handlers[verb](ctx, args, out)


def _fingerprint(args: argparse.Namespace, out: TextIO) -> int:
    from reporter_app.detect import commands

    if args.muted or args.unmute:
        if args.file or args.lines:
            print("reporter-app: fingerprint takes a FILE, or --muted, or --unmute FP", file=sys.stderr)
            return 2
        # The data dir only (no config): a broken config must not stop anyone from unmuting.
        from reporter_app.clock import SystemClock
        from reporter_app.paths import resolve_paths

        data_dir = resolve_paths(args.home).data_dir
        if args.muted:
            return commands.list_silenced(data_dir, SystemClock(), out)
        return commands.unmute(data_dir, args.unmute, SystemClock(), out)
    if not args.file:
        print("reporter-app: fingerprint needs a FILE (or --muted, or --unmute FP)", file=sys.stderr)
        return 2
    return commands.fingerprint_file(args.file, args.lines, out)


def _run_gui(args: argparse.Namespace, open_form: bool) -> int:
    try:
        from ui.main import run_gui
    except ImportError as exc:
        raise CliError(f"the desktop app cannot start: {exc}") from exc
    return int(run_gui(home=args.home, overrides=args.overrides or (), open_form=open_form))


def _report(ctx: Any, args: argparse.Namespace, out: TextIO) -> int:
    from reporter_app.app import Draft
    from reporter_app.collect import collect_headless
    from reporter_app.outbox import OutboxError, OutboxState

    if not args.title or not args.title.strip():
        raise CliError("a report needs a title: --title \"what went wrong\"")
    draft = Draft(title=args.title, description=args.description, expected=args.expected, steps=args.steps,
                  impact=Impact(args.impact) if args.impact else None, reach=Reach(args.reach),
                  priority=Priority(args.priority) if args.priority else None, component=args.component,
                  attachments=[__import__("pathlib").Path(p) for p in args.attach],
                  users_affected=args.users_affected, money_lost=args.money_lost)
    missing = [p for p in draft.attachments if not p.is_file()]
    if missing:
        raise CliError(f"attachment not found: {', '.join(map(str, missing))}")
    if args.priority and not ctx.reporter().role.may_triage:
        print(f"note: role {ctx.reporter().role.value!r} cannot set the priority; the suggested one is used",
              file=sys.stderr)
    evidence = collect_headless(ctx.config, screenshot=not args.no_screenshot)
    try:
        bundle, entry = ctx.submit(draft, evidence)
    except (BundleError, OutboxError, OSError) as exc:
        raise CliError(str(exc)) from exc
    if args.no_send:
        print(f"queued {entry.id}", file=out)
        return 0
    try:
        ctx.send_pending()
    except OutboxError as exc:
        raise CliError(f"queued {entry.id}, but the outbox could not be updated: {exc}") from exc
    entry = ctx.outbox.get(entry.id)
    if entry.state == OutboxState.FILED:
        print(entry.ticket_key, file=out)
        return 0
    if entry.state == OutboxState.NEEDS_ATTENTION:
        raise CliError(f"queued {entry.id[:8]}, not filed: {entry.last_error} "
                       "(fix it, then `reporter-app outbox retry`)")
    reason = f": {entry.last_error}" if entry.last_error else " (the running app will send it)"
    print(f"queued {entry.id}{reason}", file=out)
    return 0


def _status(ctx: Any, args: argparse.Namespace, out: TextIO) -> int:
    from reporter_app.status import collect_statuses
    from reporter_app.trackers.base import TrackerError

    tracker, error = None, ""
    try:
        tracker = ctx.tracker()
    except (TrackerError, ValueError) as exc:
        error = getattr(exc, "message", str(exc))
    rows = collect_statuses(ctx.outbox, tracker, args.ticket, tracker_error=error)
    if args.ticket and (not rows or (rows[0].entry is None and rows[0].ticket is None)):
        raise CliError(f"no report or ticket {args.ticket!r}" + (f": {error}" if error else ""))
    slas = _slas(ctx, rows)
    if args.json:
        json.dump([{**r.to_json(), "sla": slas[r.key].to_json() if r.key in slas else None} for r in rows],
                  out, indent=2)
        out.write("\n")
        return 0
    if not rows:
        print("No reports yet. File one with: reporter-app report --title \"...\"", file=out)
        return 0
    for row in rows:
        data = row.to_json()
        key = data.get("ticket") or f"({data.get('outbox_state')})"
        state = data.get("status") or data.get("outbox_state", "")
        extra = ""
        if data.get("outbox_state") in ("waiting_retry", "needs_attention"):
            extra = f"  {data.get('last_error', '')}"
        else:
            notes = [f"{data['comments']} comment(s)"] if data.get("comments") else []
            if row.key in slas:
                notes.insert(0, slas[row.key].short())
            extra = "  " + "; ".join(n for n in notes if n) if notes else ""
        print(f"{key:<12} {state:<16} {data.get('title', '')}{extra}", file=out)
        if args.ticket and row.ticket:
            for comment in row.ticket.comments:
                print(f"    {comment.author}: {comment.body}", file=out)
    return 0


def _stats(ctx: Any, args: argparse.Namespace, out: TextIO) -> int:
    from reporter_app.tracking.commands import parse_since, stats_command

    try:
        since = parse_since(args.since, ctx.clock.now()) if args.since else None
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    return stats_command(ctx, since, args.format or "text", out)


def _follow(ctx: Any, args: argparse.Namespace, out: TextIO) -> int:
    from reporter_app.tracking.commands import follow_command

    return follow_command(ctx, args.ticket, out)


def _slas(ctx: Any, rows: Any) -> dict[str, Any]:
    """SLA per filed ticket; a tracking store that cannot be opened costs the column, not the command."""
    from reporter_app.tracking.commands import sla_for_status_rows

    try:
        return sla_for_status_rows(ctx, rows)
    except Exception as exc:  # e.g. a read-only data dir: status must still answer
        log.info("SLA not shown: %s", exc)
        return {}


def _outbox(ctx: Any, args: argparse.Namespace, out: TextIO) -> int:
    from reporter_app.clock import utc_iso
    from reporter_app.outbox import OutboxError

    action = args.outbox_verb or "list"
    try:
        if action == "retry":
            count = ctx.outbox.retry(args.id and ctx.outbox.get(args.id).id)
            print(f"{count} report(s) due again", file=out)
            results = ctx.send_pending()
            if results is None:
                print("the running app is sending them", file=out)
            for outcome in results or []:
                detail = outcome.ticket.key if outcome.ticket else outcome.message
                print(f"{outcome.entry.id[:8]} {outcome.result.value}: {detail}", file=out)
            return 0
        if action == "drop":
            entry = ctx.outbox.drop(args.id)
            print(f"dropped {entry.id} ({entry.title!r}); its files stay in {entry.bundle_path}", file=out)
            return 0
    except OutboxError as exc:
        raise CliError(str(exc)) from exc
    entries = ctx.outbox.entries()
    if args.json:
        json.dump([{"id": e.id, "title": e.title, "state": e.state.value, "attempts": e.attempts,
                    "next_attempt_at": utc_iso(e.next_attempt_at) if e.next_attempt_at else None,
                    "last_error": e.last_error, "ticket": e.ticket_key or None, "bundle": str(e.bundle_path)}
                   for e in entries], out, indent=2)
        out.write("\n")
        return 0
    if not entries:
        print("The outbox is empty.", file=out)
    for e in entries:
        when = f" next try {utc_iso(e.next_attempt_at)}" if e.next_attempt_at and e.state == "waiting_retry" else ""
        why = f" - {e.last_error}" if e.last_error else ""
        print(f"{e.id[:8]}  {e.state.value:<15} {e.ticket_key or '-':<10} {e.title}{when}{why}", file=out)
    return 0


def _doctor(ctx: Any, args: argparse.Namespace, out: TextIO) -> int:
    from reporter_app.doctor import run_doctor

    files = [str(p) for p in (ctx.paths.system_config, ctx.paths.user_config) if p.exists()]
    print(f"ok   config: {', '.join(files) if files else 'built-in defaults'}", file=out)
    lines = run_doctor(ctx)
    for line in lines:
        print(line, file=out)
    return 1 if any(line.status == "FAIL" for line in lines) else 0


def _login(ctx: Any, args: argparse.Namespace, out: TextIO) -> int:
    import getpass

    from reporter_app.credentials import CredentialError, store_token
    from reporter_app.trackers import load_backend

    backend = ctx.backend
    if not any(o.secret for o in load_backend(backend).options):
        print(f"The {backend} tracker needs no credentials.", file=out)
        return 0
    url = str(ctx.config.get("tracker.url") or "")
    token = getpass.getpass(f"Token for {backend} at {url or '(no url)'}: ") if sys.stdin.isatty() \
        else sys.stdin.readline().strip()
    if not token:
        raise CliError("no token given; nothing stored")
    try:
        store_token(backend, url, token)
    except CredentialError as exc:
        raise CliError(str(exc)) from exc
    print(f"Stored in the OS keyring for {backend} at {url}.", file=out)
    return 0


def _config(args: argparse.Namespace, out: TextIO) -> int:
    import os

    from reporter_app.config import ConfigError, load_config
    from reporter_app.config import commands as config_commands
    from reporter_app.paths import resolve_paths

    paths = resolve_paths(args.home)
    action = args.config_verb or "show"
    if action == "path":
        return int(config_commands.config_path(paths, out))
    if action == "init":
        return int(config_commands.config_init(paths, out, force=args.force))
    if action == "check":
        return int(config_commands.config_check(paths, os.environ, out, system_only=args.system))
    if action == "set":
        return int(config_commands.config_set(paths, os.environ, args.pairs, out))
    try:
        cfg = load_config(paths, os.environ, args.overrides or ())
    except ConfigError as exc:
        raise CliError(str(exc)) from exc
    config_commands.config_show(cfg, out)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
