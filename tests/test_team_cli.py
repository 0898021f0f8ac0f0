"""Team mode from the command line, against a shared PostgreSQL catalog: login (sign-up on an
empty catalog), whoami, the catalog and health commands under the session, audit verify and
export, logout."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import pgservers
from conftest import key_text

PASSWORD = "correct horse battery"


def studio_tui(home: Path, env: dict, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("STUDIO_")}
    full_env.update({"STUDIO_TUI_HOME": str(home), **env})
    return subprocess.run([sys.executable, "-m", "studio_tui", *args], capture_output=True,
                          text=True, env=full_env, timeout=60, input=stdin)


def test_login_whoami_commands_audit_and_logout(tmp_path: Path, postgres_server, redis_server):
    url = pgservers.create_database(postgres_server.url, "team_cli_" + uuid.uuid4().hex[:8])
    env = {"STUDIO_PLATFORM_URL": url, "STUDIO_TUI_KEY": key_text()}
    home = tmp_path / "alice"

    refused = studio_tui(home, env, "db", "list")
    assert refused.returncode != 0 and "Not signed in: run `studio-tui login`" in refused.stderr

    signed_up = studio_tui(home, env, "login", "--email", "alice@example.com",
                           stdin=f"{PASSWORD}\n{PASSWORD}\nAcme\n")
    assert signed_up.returncode == 0, signed_up.stderr
    assert "Signed in as alice@example.com" in signed_up.stdout
    token_file = home / "data" / "session"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert PASSWORD not in signed_up.stdout + signed_up.stderr

    whoami = studio_tui(home, env, "whoami", "--json")
    assert whoami.returncode == 0, whoami.stderr
    assert json.loads(whoami.stdout) == {"email": "alice@example.com", "name": "alice",
                                         "roles": {"Acme": "owner"}}
    added = studio_tui(home, env, "db", "add", "cache", redis_server.url)
    assert added.returncode == 0, added.stderr
    listed = studio_tui(home, env, "db", "list", "--json")
    assert [row["name"] for row in json.loads(listed.stdout)] == ["cache"]
    assert studio_tui(home, env, "health").returncode == 0

    # Another machine (another home) shares the catalog but not the session.
    other = studio_tui(tmp_path / "bob", env, "whoami")
    assert other.returncode != 0 and "Not signed in" in other.stderr
    wrong = studio_tui(tmp_path / "bob", env, "login", "--email", "alice@example.com",
                       stdin="not the password\n")
    assert wrong.returncode != 0 and "Wrong email or password" in wrong.stderr

    verified = studio_tui(home, env, "audit", "verify")
    assert verified.returncode == 0 and "chain holds" in verified.stdout
    exported = studio_tui(home, env, "audit", "export")
    actions = [json.loads(line)["action"] for line in exported.stdout.splitlines()]
    assert actions[0] == "sign up" and "add database" in actions and "sign in" in actions

    assert studio_tui(home, env, "logout").returncode == 0
    assert not token_file.exists()
    assert studio_tui(home, env, "whoami").returncode != 0
