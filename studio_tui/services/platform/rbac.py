"""Roles and what each may do. Checked by the services on every operation, not only by the UI.

A role belongs to a membership: one user, one organization. Whatever the organization owns (its
projects and their database entries) the member may read or change as that role allows.
"""

from __future__ import annotations

import getpass
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from studio_tui.services.errors import PermissionDeniedError


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    DEVELOPER = "developer"
    READ_ONLY = "read_only"

    @property
    def label(self) -> str:
        return self.value.replace("_", "-")


class Permission(StrEnum):
    READ_DATA = "read data"
    WRITE_DATA = "write data"
    MANAGE_CATALOG = "manage organizations, projects and databases"
    MANAGE_MEMBERS = "manage members"
    READ_AUDIT = "read the audit log"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OWNER: frozenset(Permission),
    Role.ADMIN: frozenset(Permission),
    Role.DEVELOPER: frozenset({Permission.READ_DATA, Permission.WRITE_DATA}),
    Role.READ_ONLY: frozenset({Permission.READ_DATA}),
}

_NO_MEMBERSHIPS: Mapping[str, Role] = MappingProxyType({})


@dataclass(frozen=True, slots=True, eq=False)
class Actor:
    """Who is acting: the local user in single-user mode, a signed-in member in team mode.

    ``everywhere`` is the role in every organization (the local user owns them all); otherwise
    ``memberships`` (organization id → role) says which organizations the actor belongs to."""

    id: str
    name: str
    everywhere: Role | None = None
    memberships: Mapping[str, Role] = field(default_factory=lambda: _NO_MEMBERSHIPS)
    session_id: str | None = None

    def role_in(self, org_id: str | None) -> Role | None:
        if self.everywhere is not None:
            return self.everywhere
        if org_id is None:
            return None
        return self.memberships.get(org_id)

    def can(self, permission: Permission, org_id: str | None) -> bool:
        role = self.role_in(org_id)
        return role is not None and permission in ROLE_PERMISSIONS[role]

    def with_memberships(self, memberships: Mapping[str, Role]) -> "Actor":
        return Actor(self.id, self.name, self.everywhere, MappingProxyType(dict(memberships)),
                     self.session_id)


def authorize(actor: Actor, permission: Permission, org_id: str | None, target: str) -> Role:
    """The permission check: the actor's role in the organization that owns ``target``, or
    PermissionDeniedError naming the role and what it may not do."""
    role = actor.role_in(org_id)
    if role is None and not actor.id:
        raise PermissionDeniedError(f"Nobody is signed in: sign in to reach {target}.")
    if role is None:
        raise PermissionDeniedError(
            f"{actor.name} is not a member of the organization that owns {target}.")
    if permission not in ROLE_PERMISSIONS[role]:
        raise PermissionDeniedError(
            f"{actor.name} has the {role.label} role, which may not {permission.value} "
            f"on {target}.")
    return role


def local_owner() -> Actor:
    """The single-user actor: the OS user, owner of every organization in its own catalog."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # no login name (a container without a passwd entry)
        name = "local user"
    return Actor("local", name, everywhere=Role.OWNER)


SIGNED_OUT = Actor("", "nobody (signed out)")
"""Before sign-in in team mode: a member of nothing, so every check refuses."""

LOCAL_OWNER = Actor("local", "local user", everywhere=Role.OWNER)
