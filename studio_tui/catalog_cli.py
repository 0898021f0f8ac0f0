"""Headless `org`, `project` and `db` commands, for scripts and cron over SSH."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys

from studio_tui.services.catalog import Catalog
from studio_tui.services.errors import NotFoundError, StudioError, ValidationError
from studio_tui.services.platform.models import Organization, Project
from studio_tui.services.studio import Studio
from studio_tui.services.settings import Settings

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 2, 64


class NotConfirmed(StudioError):
    code = "NOT_CONFIRMED"
    title = "Not confirmed"
    status = 400


def _confirm(question: str, assume_yes: bool) -> None:
    if assume_yes:
        return
    if not sys.stdin.isatty():
        raise NotConfirmed(f"{question} Pass --yes to confirm without a terminal.")
    answer = input(f"{question} [y/N] ").strip().lower()
    if answer not in ("y", "yes"):
        raise NotConfirmed("Nothing was deleted.")


def _print(rows: list[dict], as_json: bool, columns: list[str]) -> None:
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    widths = {c: max([len(c), *(len(str(r.get(c, ""))) for r in rows)]) for c in columns}
    print("  ".join(c.upper().ljust(widths[c]) for c in columns).rstrip())
    for row in rows:
        print("  ".join(str(row.get(c, "")).ljust(widths[c]) for c in columns).rstrip())


async def _org(catalog: Catalog, name: str | None) -> Organization:
    orgs = await catalog.organizations()
    if name is None:
        return next((o for o in orgs if o.personal), orgs[0])
    for org in orgs:
        if org.name == name:
            return org
    raise NotFoundError(f"No organization is named {name!r}.")


async def _project(catalog: Catalog, name: str | None) -> Project:
    if name:
        return await catalog.find_project(name)
    org = await _org(catalog, None)
    projects = await catalog.projects(org.id)
    if not projects:
        raise NotFoundError(f"{org.name} has no project; add one with `studio-tui project add`.")
    return projects[0]


async def run_catalog_command(args: argparse.Namespace, settings: Settings) -> int:
    async with Studio(settings) as studio:
        await studio.require_session()
        handler = {"org": _org_command, "project": _project_command, "db": _db_command}
        return await handler[args.command](studio, args)


async def _org_command(studio: Studio, args: argparse.Namespace) -> int:
    catalog = studio.catalog
    if args.action == "list":
        counts = await catalog.organization_counts()
        rows = [{"name": o.name, "projects": counts.get(o.id, (0, 0))[0],
                 "databases": counts.get(o.id, (0, 0))[1], "personal": o.personal}
                for o in await catalog.organizations()]
        _print(rows, args.json, ["name", "projects", "databases"])
    elif args.action == "add":
        org = await catalog.create_organization(args.name)
        print(f"Added organization {org.name!r}.")
    else:
        org = await _org(catalog, args.name)
        projects, databases = (await catalog.organization_counts()).get(org.id, (0, 0))
        _confirm(f"Delete organization {org.name!r} with {projects} project(s) and {databases} "
                 "saved database connection(s)?", args.yes)
        summary = await catalog.delete_organization(org.id)
        print(f"Deleted {org.name!r}: {summary.projects} project(s), {summary.databases} "
              "database connection(s).")
    return EXIT_OK


async def _project_command(studio: Studio, args: argparse.Namespace) -> int:
    catalog = studio.catalog
    if args.action == "list":
        orgs = {o.id: o.name for o in await catalog.organizations()}
        org_id = (await _org(catalog, args.org)).id if args.org else None
        counts = await catalog.project_counts()
        rows = [{"org": orgs[p.org_id], "name": p.name, "databases": counts.get(p.id, 0)}
                for p in await catalog.projects(org_id)]
        _print(rows, args.json, ["org", "name", "databases"])
    elif args.action == "add":
        org = await _org(catalog, args.org)
        project = await catalog.create_project(org.id, args.name)
        print(f"Added project {org.name}/{project.name}.")
    else:
        project = await catalog.find_project(args.name)
        databases = (await catalog.project_counts()).get(project.id, 0)
        _confirm(f"Delete project {project.name!r} and its {databases} saved database "
                 "connection(s)?", args.yes)
        summary = await catalog.delete_project(project.id)
        print(f"Deleted {project.name!r} and {summary.databases} database connection(s).")
    return EXIT_OK


def _pg_meta_key() -> str:
    """pg-meta's CRYPTO_KEY: from the environment or typed, never an argument (argv is seen by
    every user of the machine and kept in shell history)."""
    key = os.environ.get("PG_META_CRYPTO_KEY", "")
    if not key and sys.stdin.isatty():
        key = getpass.getpass("pg-meta CRYPTO_KEY: ")
    if not key:
        raise ValidationError("--pg-meta needs pg-meta's CRYPTO_KEY: set PG_META_CRYPTO_KEY, or "
                              "run it in a terminal to type it.")
    return key


async def _db_command(studio: Studio, args: argparse.Namespace) -> int:
    catalog = studio.catalog
    if args.action == "list":
        project_id = (await _project(catalog, args.project)).id if args.project else None
        projects = {p.id: p.name for p in await catalog.projects()}
        rows = [{"name": e.name, "kind": e.kind.value, "project": projects[e.project_id],
                 "tier": e.tier.value, "read_only": e.read_only, "url": e.masked_url,
                 "tags": list(e.tags)} for e in await catalog.databases(project_id)]
        _print(rows, args.json, ["name", "kind", "project", "tier", "read_only", "url"])
    elif args.action == "add":
        project = await _project(catalog, args.project)
        pg_meta = (args.pg_meta, _pg_meta_key()) if args.pg_meta else None
        entry = await catalog.add_database(project.id, args.name, args.url, tier=args.tier,
                                           read_only=args.read_only, tags=args.tag,
                                           pg_meta=pg_meta)
        through = f", through pg-meta at {args.pg_meta.strip().rstrip('/')}" if pg_meta else ""
        print(f"Added {entry.kind.value} database {entry.name!r} ({entry.masked_url}{through}) "
              f"to {project.name}.")
    elif args.action == "rm":
        entry = await catalog.find_database(args.name)
        _confirm(f"Delete the saved connection {entry.name!r} ({entry.masked_url})? "
                 "The database itself is not touched.", args.yes)
        await catalog.delete_database(entry.id)
        print(f"Deleted the connection {entry.name!r}.")
    else:
        entry = await catalog.find_database(args.name)
        report = await studio.manager.check(entry.id)
        if args.json:
            result = {"name": entry.name, "status": report.status,
                      "latency_ms": report.latency_ms, "version": report.version or None}
            if report.error:
                result["error"] = report.error.to_problem()
            print(json.dumps(result, indent=2))
        elif report.error:
            print(f"{entry.name}: {report.status}: {report.error}", file=sys.stderr)
        else:
            print(f"{entry.name}: {report.status}, {report.latency_ms:.1f} ms, "
                  f"{entry.kind.value} {report.version}")
        return EXIT_OK if report.error is None else EXIT_FAILED
    return EXIT_OK
