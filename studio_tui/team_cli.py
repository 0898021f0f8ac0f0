"""Team-mode commands: login, logout, whoami, totp enable/disable; and the audit log's verify and export (either mode)."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import TextIO

from studio_tui.services.errors import AuthenticationError, ConfigError
from studio_tui.services.settings import Settings
from studio_tui.services.studio import Studio

EXIT_OK, EXIT_BROKEN = 0, 1


def _ask(prompt: str, *, secret: bool = False) -> str:
    if secret and sys.stdin.isatty():
        return getpass.getpass(prompt)
    # Piped in (a script): one line each, as for the other answers.
    print(prompt, end="", flush=True, file=sys.stderr)
    return sys.stdin.readline().strip()


async def run_team_command(args: argparse.Namespace, settings: Settings) -> int:
    async with Studio(settings) as studio:
        if args.command == "audit":
            await studio.require_session()
            return await _audit(studio, args)
        if not studio.team_mode:
            raise ConfigError(f"`studio-tui {args.command}` is for team mode: set "
                              "STUDIO_PLATFORM_URL to the shared catalog's postgresql:// URL.")
        if args.command == "login":
            return await _login(studio, args)
        if args.command == "logout":
            await studio.sign_out()
            print("Signed out.")
            return EXIT_OK
        await studio.require_session()
        if args.command == "totp":
            return await _totp(studio, args.action)
        return await _whoami(studio, as_json=args.json)


async def _totp(studio: Studio, action: str) -> int:
    if action == "enable":
        uri = await studio.start_totp()
        print("Add this to your authenticator app (shown only now; it holds the secret):")
        print(f"\n  {uri}\n")
        await studio.confirm_totp(_ask("Code from the app: "))
        print("Two-factor sign-in is on: sign-in now asks for a code.")
    else:
        password = _ask("Password: ", secret=True)
        await studio.disable_totp(password, _ask("Code from the app: "))
        print("Two-factor sign-in is off.")
    return EXIT_OK


async def _login(studio: Studio, args: argparse.Namespace) -> int:
    from studio_tui.services.platform.auth import TotpRequiredError

    accounts = studio.accounts
    email = args.email or _ask("Email: ")
    if args.invitation:
        password = _ask("Password (a new account's, or yours): ", secret=True)
        signed_in = await studio.accept_invitation(args.invitation, email, password)
    elif await accounts.needs_sign_up():
        print("This catalog has no user yet: you sign up as its owner.", file=sys.stderr)
        password = _ask("New password: ", secret=True)
        if _ask("Again: ", secret=True) != password:
            raise AuthenticationError("The two passwords differ; nothing was created.")
        org = _ask("Organization name [Team]: ") or "Team"
        signed_in = await studio.sign_up(email, password, org_name=org)
    else:
        password = _ask("Password: ", secret=True)
        try:
            signed_in = await studio.sign_in(email, password)
        except TotpRequiredError:
            signed_in = await studio.sign_in(email, password, _ask("Authenticator code: "))
    print(f"Signed in as {signed_in.user.email}.")
    return EXIT_OK


async def _whoami(studio: Studio, *, as_json: bool) -> int:
    session = studio.session
    assert session is not None
    names = {o.id: o.name for o in await studio.catalog.organizations()}
    roles = {names.get(org_id, org_id): role.value
             for org_id, role in studio.actor.memberships.items()}
    if as_json:
        print(json.dumps({"email": session.user.email, "name": studio.actor.name,
                          "roles": roles}))
    else:
        print(f"{studio.actor.name} <{session.user.email}>")
        for org, role in sorted(roles.items()):
            print(f"  {role:<10} {org}")
    return EXIT_OK


async def _audit(studio: Studio, args: argparse.Namespace) -> int:
    if args.action == "verify":
        verification = await studio.catalog.verify_audit()
        if verification.ok:
            print(f"The audit chain holds: {verification.checked} entries checked.")
            return EXIT_OK
        print(f"studio-tui: the audit chain is broken at entry {verification.first_broken_id}: "
              f"{verification.reason}", file=sys.stderr)
        return EXIT_BROKEN
    out: TextIO = open(args.output, "w") if args.output else sys.stdout  # noqa: SIM115
    try:
        count = await studio.catalog.write_audit_jsonl(out)
    finally:
        if args.output:
            out.close()
    if args.output:
        print(f"Exported {count} audit entries to {args.output}.", file=sys.stderr)
    return EXIT_OK
