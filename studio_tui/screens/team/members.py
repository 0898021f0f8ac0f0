"""One organization's members: invite (the one-time token shown once), change a role, remove.
Only owners and admins may change anything; the services refuse the others in any case."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.binding import Binding

from studio_tui.dialogs.confirm import ConfirmModal
from studio_tui.dialogs.fields import Field, FieldsModal
from studio_tui.screens.catalog.list_screen import CatalogScreen
from studio_tui.services.platform.rbac import Permission, Role
from studio_tui.widgets.catalog_table import CatalogRow

if TYPE_CHECKING:
    from studio_tui.services.platform.models import Member, Organization

ROLES = tuple(role.value for role in Role)


class MembersScreen(CatalogScreen):
    CSS_PATH = "../../styles/catalog.tcss"
    COLUMNS = ("Email", "Name", "Role")
    BINDINGS = [
        Binding("n", "invite", "Invite", id="members.invite"),
        Binding("e", "change_role", "Role", id="members.role"),
        Binding("d", "remove", "Remove", id="members.remove"),
        Binding("s", "suspend", "Suspend", show=False, id="members.suspend"),
        Binding("u", "unsuspend", "Lift suspension", show=False, id="members.unsuspend"),
    ]
    MANAGING = frozenset({"invite", "change_role", "remove", "suspend", "unsuspend"})

    def __init__(self, org: "Organization") -> None:
        super().__init__()
        self.org = org

    def breadcrumb(self) -> str:
        return f"{self.org.name} › Members"

    async def fetch_rows(self) -> list[CatalogRow]:
        members = await self.studio.accounts.members(self.org.id)
        self.items = {m.user_id: m for m in members}
        return [CatalogRow(m.user_id, (m.email, m.display_name, self._role_text(m)),
                           f"{m.email} {m.display_name} {self._role_text(m)}".lower())
                for m in members]

    @staticmethod
    def _role_text(member: "Member") -> str:
        role = Role(member.role).label
        return f"{role} · suspended" if member.banned_at else role

    def summary(self, rows: list[CatalogRow]) -> str:
        if not self.may_manage:
            return f"{len(rows)} member(s) · only an owner or admin may change them"
        # Fits 80 columns: every key that changes a member.
        return (f"{len(rows)} member(s) · n invite · e role · d remove · s suspend · "
                "u unsuspend")

    @property
    def may_manage(self) -> bool:
        return self.studio.catalog.can(Permission.MANAGE_MEMBERS, self.org.id)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.MANAGING and not self.may_manage:
            return None  # dimmed: the role may not manage members
        return super().check_action(action, parameters)

    def action_invite(self) -> None:
        async def invite(values: dict[str, str]) -> tuple[str, str]:
            token = await self.studio.accounts.invite(self.org.id, values["email"],
                                                      Role(values["role"]))
            return values["email"], token

        self.app.push_screen(FieldsModal(
            f"Invite to {self.org.name}",
            [Field("email", "Email", placeholder="name@example.com"),
             Field("role", "Role", value=Role.DEVELOPER.value, choices=ROLES)],
            invite, save_label="Invite"), self._invited)

    def _invited(self, result: tuple[str, str] | None) -> None:
        if result is None:
            return
        email, token = result
        # Shown once: the catalog keeps only its hash.
        self.app.push_screen(ConfirmModal(
            f"Invitation for {email}",
            f"Give them this one-time token (shown only now; valid 7 days):\n\n{token}\n\n"
            "They join on the sign-in screen (ctrl+t), or with `studio-tui login --invitation "
            "TOKEN`.",
            confirm_label="Done"))
        self._next_status = f"Invited {email}."
        self.load()

    def _selected(self) -> "Member | None":
        return self.selected_item()  # type: ignore[return-value]

    def action_change_role(self) -> None:
        member = self._selected()
        if member is None:
            return

        async def change(values: dict[str, str]) -> "Member":
            return await self.studio.accounts.set_role(self.org.id, member.user_id,
                                                       Role(values["role"]))

        self.app.push_screen(FieldsModal(
            f"Role of {member.email}", [Field("role", "Role", value=Role(member.role).value,
                                              choices=ROLES)], change, submit_on_choice=True),
            lambda changed: self._saved(changed, "Changed the role of"))

    def _saved(self, member: "Member | None", what: str) -> None:
        if member is not None:
            self._next_status = f"{what} {member.email or member.user_id}."
            self.load()

    def action_remove(self) -> None:
        member = self._selected()
        if member is None:
            return

        async def remove() -> str:
            await self.studio.accounts.remove_member(self.org.id, member.user_id)
            return f"Removed {member.email} from {self.org.name}."

        self.app.push_screen(
            ConfirmModal(f"Remove {member.email}?",
                         f"{member.email} loses access to everything {self.org.name} owns.",
                         confirm_label="Remove"),
            lambda confirmed: self.run_change(remove) if confirmed else None)

    def action_suspend(self) -> None:
        member = self._selected()
        if member is None:
            return

        async def suspend() -> str:
            await self.studio.accounts.ban(self.org.id, member.user_id)
            return f"Suspended {member.email}: their sessions have ended."

        self.app.push_screen(
            ConfirmModal(f"Suspend {member.email}?",
                         f"{member.email} is signed out everywhere now and may not sign in "
                         "again, in any organization.",
                         confirm_label="Suspend"),
            lambda confirmed: self.run_change(suspend) if confirmed else None)

    def action_unsuspend(self) -> None:
        member = self._selected()
        if member is None:
            return
        if not member.banned_at:
            self.say(f"{member.email} is not suspended.")
            return

        async def unsuspend() -> str:
            await self.studio.accounts.unban(self.org.id, member.user_id)
            return f"Lifted the suspension of {member.email}: they may sign in again."

        self.app.push_screen(
            ConfirmModal(f"Lift the suspension of {member.email}?",
                         f"{member.email} may sign in again, in every organization they "
                         "belong to.", confirm_label="Lift"),
            lambda confirmed: self.run_change(unsuspend) if confirmed else None)
