"""Roles and what each may do. Checked by the services on every operation, not only by the UI."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from studio_tui.services.errors import PermissionDeniedError


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    DEVELOPER = "developer"
    READ_ONLY = "read_only"


class Permission(StrEnum):
    READ_DATA = "read data"
    WRITE_DATA = "write data"
    MANAGE_CATALOG = "manage organizations, projects and databases"
    MANAGE_MEMBERS = "manage members"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OWNER: frozenset(Permission),
    Role.ADMIN: frozenset({Permission.READ_DATA, Permission.WRITE_DATA, Permission.MANAGE_CATALOG,
                           Permission.MANAGE_MEMBERS}),
    Role.DEVELOPER: frozenset({Permission.READ_DATA, Permission.WRITE_DATA}),
    Role.READ_ONLY: frozenset({Permission.READ_DATA}),
}


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: the local user in single-user mode, a signed-in member in team mode."""

    id: str
    name: str
    role: Role

    def can(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]

    def require(self, permission: Permission, target: str) -> None:
        if not self.can(permission):
            raise PermissionDeniedError(
                f"{self.name} has the {self.role.value} role, which may not {permission.value} "
                f"on {target}."
            )


LOCAL_OWNER = Actor("local", "local user", Role.OWNER)
