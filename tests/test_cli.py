"""The headless command line, run as a user would run it: a subprocess with its own home."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import realservers
from conftest import REDIS_PASSWORD, key_text
from studio_tui import __version__
from studio_tui.services.studio import Studio
from studio_tui.services.settings import Settings


def studio_tui(home: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("STUDIO_")}
    full_env.update({"STUDIO_TUI_HOME": str(home)}, **(env or {}))
    return subprocess.run([sys.executable, "-m", "studio_tui", *args], capture_output=True,
                          text=True, env=full_env, timeout=60, stdin=subprocess.DEVNULL)


async def add_entries(home: Path, *entries: tuple[str, str], env: dict | None = None) -> None:
    environment = {"STUDIO_TUI_HOME": str(home), **(env or {})}
    async with Studio(Settings.load(environment), environment) as studio:
        org = (await studio.catalog.organizations())[0]
        project = (await studio.catalog.projects(org.id))[0]
        for name, url in entries:
            await studio.catalog.add_database(project.id, name, url)


def test_version_and_help(tmp_path: Path):
    version = studio_tui(tmp_path, "--version")
    assert (version.returncode, version.stdout.strip()) == (0, f"studio-tui {__version__}")
    helped = studio_tui(tmp_path, "--help")
    assert helped.returncode == 0
    for word in ("health", "keys", "terminal UI"):
        assert word in helped.stdout


@pytest.mark.parametrize("key, message", [
    ("SAMPLE_KEY", "well-known default"),
    ("dG9vIHNob3J0", "AES-256 needs 32"),
])
@pytest.mark.parametrize("command", [[], ["health"]])
def test_weak_keys_stop_every_command_with_a_clear_error(tmp_path: Path, key, message, command):
    result = studio_tui(tmp_path, *command, env={"STUDIO_TUI_KEY": key})
    assert result.returncode == 2
    assert message in result.stderr and "STUDIO_TUI_KEY" in result.stderr
    assert "Traceback" not in result.stderr


async def test_wrong_key_names_its_source_and_leaves_the_catalog_alone(tmp_path: Path):
    right = key_text()
    await add_entries(tmp_path, ("cache", "redis://:pw-123456@127.0.0.1:6379"),
                      env={"STUDIO_TUI_KEY": right})
    catalog = tmp_path / "data" / "catalog.sqlite3"
    before = catalog.read_bytes()
    result = studio_tui(tmp_path, "health", env={"STUDIO_TUI_KEY": key_text()})
    assert result.returncode == 2
    assert "does not match" in result.stderr and "STUDIO_TUI_KEY" in result.stderr
    assert catalog.read_bytes() == before


async def test_keys_rotate_reencrypts_and_health_still_reads_them(tmp_path: Path, redis_server):
    await add_entries(tmp_path, ("cache", redis_server.url))
    key_before = (tmp_path / "data" / "key").read_text()
    rotated = studio_tui(tmp_path, "keys", "rotate")
    assert rotated.returncode == 0, rotated.stderr
    assert "Re-encrypted 1 secret(s)" in rotated.stdout
    assert (tmp_path / "data" / "key").read_text() != key_before
    health = studio_tui(tmp_path, "health", "--json")
    assert health.returncode == 0, health.stderr
    assert json.loads(health.stdout)["services"]["cache"]["status"] == "up"


def test_keys_generate_prints_a_usable_key(tmp_path: Path):
    generated = studio_tui(tmp_path, "keys", "generate").stdout.strip()
    health = studio_tui(tmp_path, "health", env={"STUDIO_TUI_KEY": generated})
    assert health.returncode == 0, health.stderr


async def test_health_json_reports_each_database_and_exits_by_the_worst(tmp_path: Path,
                                                                        redis_server,
                                                                        postgres_server):
    await add_entries(tmp_path, ("cache", redis_server.url), ("orders", postgres_server.url))
    healthy = studio_tui(tmp_path, "health", "--json")
    assert healthy.returncode == 0, healthy.stderr
    report = json.loads(healthy.stdout)
    assert report["status"] == "healthy"
    assert set(report["services"]) == {"cache", "orders"}
    for service in report["services"].values():
        assert service["status"] == "up" and service["breaker"] == "closed"
        assert service["latency_ms"] > 0
        histogram = service["metrics"]["operation_duration_seconds"]
        assert histogram["count"] == 1
        # Prometheus `le` buckets: cumulative, +Inf holding every operation.
        counts = list(histogram["buckets"].values())
        assert counts == sorted(counts) and histogram["buckets"]["+Inf"] == 1
        assert service["metrics"]["pool"]["total"] >= 1

    dead = f"postgresql://app:dead-pw-999@127.0.0.1:{realservers.closed_port()}/x"
    await add_entries(tmp_path, ("gone", dead))
    started = time.monotonic()
    down = studio_tui(tmp_path, "health", "--json")
    elapsed = time.monotonic() - started
    assert down.returncode == 2
    report = json.loads(down.stdout)
    assert report["status"] == "down"
    gone = report["services"]["gone"]
    assert gone["status"] == "down" and gone["latency_ms"] is None
    assert gone["error"]["code"] == "CONNECTION_REFUSED"
    assert gone["metrics"]["errors"] == {"CONNECTION_REFUSED": 1}
    assert "dead-pw-999" not in down.stdout + down.stderr
    assert elapsed < 5 + 3  # the free tier's connect timeout, plus process start-up


@pytest.mark.parametrize("command", [["health", "--json"], ["health"], ["org", "list"],
                                     ["db", "list", "--json"], ["keys", "generate"]])
async def test_a_command_whose_reader_has_gone_exits_quietly(tmp_path: Path, redis_server,
                                                             command):
    """`studio-tui health --json | head -1`: the reader closes the pipe early (here, before
    anything is written); no traceback, and the command's own exit status."""
    await add_entries(tmp_path, ("cache", redis_server.url))
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("STUDIO_")}
        result = subprocess.run([sys.executable, "-m", "studio_tui", *command], stdout=write_end,
                                stderr=subprocess.PIPE, text=True, timeout=60,
                                env={**env, "STUDIO_TUI_HOME": str(tmp_path)},
                                stdin=subprocess.DEVNULL)
    finally:
        os.close(write_end)
    assert (result.returncode, result.stderr) == (0, "")


def test_health_human_output(tmp_path: Path):
    result = studio_tui(tmp_path, "health")
    assert result.returncode == 0
    assert "overall: healthy (0 database(s))" in result.stdout


def test_first_run_imports_database_urls_from_the_environment(tmp_path: Path, redis_server):
    result = studio_tui(tmp_path, "health", "--json",
                        env={"REDIS_URL": redis_server.url, "MONGODB_URI": "nonsense"})
    assert result.returncode == 0, result.stderr
    assert list(json.loads(result.stdout)["services"]) == ["redis (from REDIS_URL)"]
    # Imported once: a second run with another URL changes nothing.
    again = studio_tui(tmp_path, "health", "--json", env={"DATABASE_URL": "postgresql://h/x"})
    assert list(json.loads(again.stdout)["services"]) == ["redis (from REDIS_URL)"]


def test_org_project_db_commands_manage_the_catalog_headless(tmp_path: Path, redis_auth_server):
    assert studio_tui(tmp_path, "org", "add", "Acme").returncode == 0
    assert studio_tui(tmp_path, "project", "add", "shop", "--org", "Acme").returncode == 0
    secret_url = redis_auth_server.url
    added = studio_tui(tmp_path, "db", "add", "cache", secret_url, "--project", "Acme/shop",
                       "--tier", "pro", "--read-only", "--tag", "prod")
    assert added.returncode == 0, added.stderr
    assert REDIS_PASSWORD not in added.stdout

    listed = json.loads(studio_tui(tmp_path, "db", "list", "--json").stdout)
    assert listed == [{"name": "cache", "kind": "redis", "project": "shop", "tier": "pro",
                       "read_only": True, "url": listed[0]["url"], "tags": ["prod"]}]
    assert "****" in listed[0]["url"] and REDIS_PASSWORD not in listed[0]["url"]
    orgs = json.loads(studio_tui(tmp_path, "org", "list", "--json").stdout)
    assert {o["name"]: (o["projects"], o["databases"]) for o in orgs} == {
        "Personal": (1, 0), "Acme": (1, 1)}
    table = studio_tui(tmp_path, "project", "list").stdout
    assert "Acme" in table and "shop" in table

    tested = studio_tui(tmp_path, "db", "test", "cache")
    assert tested.returncode == 0, tested.stderr
    assert "cache: up" in tested.stdout

    refused = studio_tui(tmp_path, "db", "rm", "cache")
    assert refused.returncode == 2 and "Pass --yes" in refused.stderr
    assert studio_tui(tmp_path, "db", "rm", "cache", "--yes").returncode == 0
    gone = studio_tui(tmp_path, "org", "rm", "Acme", "--yes")
    assert "Deleted 'Acme': 1 project(s), 0 database connection(s)." in gone.stdout


@pytest.mark.parametrize("args, message", [
    (["db", "add", "x", "mysql://h/db"], "Unknown scheme mysql://"),
    (["db", "add", "x", "redis://h", "--tier", "gold"], "Unknown tier 'gold'"),
    (["db", "add", "x", "redis://h", "--project", "nope"], "No project is named 'nope'"),
    (["db", "test", "nope"], "No database entry is named 'nope'"),
    (["org", "add", "a/b"], "without '/'"),
])
def test_catalog_commands_explain_bad_input(tmp_path: Path, args, message):
    result = studio_tui(tmp_path, *args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_db_test_against_a_stopped_server_fails_fast(tmp_path: Path):
    dead = f"postgresql://app:pw-dead@127.0.0.1:{realservers.closed_port()}/db"
    assert studio_tui(tmp_path, "db", "add", "gone", dead).returncode == 0
    result = studio_tui(tmp_path, "--json", "db", "test", "gone")
    assert result.returncode == 2
    report = json.loads(result.stdout)
    assert report["status"] == "down" and report["error"]["code"] == "CONNECTION_REFUSED"
    assert "pw-dead" not in result.stdout
