"""The Textual application: global bindings, theme and navigation. Services arrive ready-made."""

from __future__ import annotations

from collections.abc import Mapping

from textual.app import App
from textual.binding import Binding
from textual.worker import Worker

from studio_tui.logs import log_crash, log_failed_worker
from studio_tui.navigation import Navigator
from studio_tui.frozen_heap import FrozenHeap
from studio_tui.palette import CatalogCommands
from studio_tui.problems import RecentProblems
from studio_tui.screens.catalog.organizations import OrganizationsScreen
from studio_tui.services.errors import StudioError
from studio_tui.services.studio import Studio
from studio_tui.services.settings import Settings
from studio_tui.state import UiState


class StudioApp(App[None]):
    TITLE = "studio-tui"
    CSS_PATH = "styles/app.tcss"
    COMMANDS = App.COMMANDS | {CatalogCommands}
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True, id="app.quit_now"),
        Binding("colon", "command", "Command", show=False, id="app.command"),
        Binding("question_mark", "help", "Help", show=False, id="app.help"),
        Binding("H", "health", "Health", id="app.health"),
        Binding("exclamation_mark", "problems", "Problems", show=False, id="app.problems"),
        Binding("A", "audit", "Audit log", show=False, id="app.audit"),
        Binding("P", "change_password", "Password", show=False, id="app.password"),
        Binding("F", "two_factor", "Two-factor", show=False, id="app.two_factor"),
        Binding("O", "sign_out", "Sign out", show=False, id="app.sign_out"),
    ]

    def __init__(self, studio: Studio) -> None:
        super().__init__()
        self.studio = studio
        self.nav = Navigator(self)
        self.ui_state = UiState(studio.settings.data_dir / "ui-state.json")
        self.fatal_error: StudioError | None = None
        self.problems = RecentProblems()
        self.frozen_heap = FrozenHeap()

    def on_mount(self) -> None:
        # An explicit STUDIO_TUI_THEME wins; otherwise the last theme chosen in the app.
        remembered = None if "STUDIO_TUI_THEME" in self.studio.env else self.ui_state.get("theme")
        theme = remembered or self.studio.settings.theme
        if theme in self.available_themes:
            self.theme = theme
        self.theme_changed_signal.subscribe(self, lambda t: self.ui_state.set("theme", t.name))
        self.set_keymap(self.studio.settings.keymap)
        if self.studio.team_mode:
            from studio_tui.screens.team.sign_in import SignInScreen

            self.push_screen(SignInScreen())
        else:
            self.push_screen(OrganizationsScreen())

    # -- team mode -------------------------------------------------------------------------
    def signed_in(self) -> None:
        """After sign-in: who it is in the header, and the organizations they belong to."""
        session = self.studio.session
        self.sub_title = f"{self.studio.actor.name} <{session.user.email}>" if session else ""
        self.switch_screen(OrganizationsScreen())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("change_password", "two_factor"):
            return self.studio.team_mode and self.studio.session is not None
        if action == "sign_out":
            return self.studio.team_mode
        return True

    def on_key(self) -> None:
        # Each key is activity: the session's expiry slides (at most once a minute, unawaited).
        if self.studio.session is not None:
            self.studio.note_activity()
        elif self.studio.session_ended:
            self.notify(f"{self.studio.session_ended} Press O to sign in again.",
                        severity="warning")
            self.studio.session_ended = ""

    def action_audit(self) -> None:
        from studio_tui.screens.team.audit import AuditScreen

        self.push_screen(AuditScreen())

    def action_change_password(self) -> None:
        from studio_tui.dialogs.fields import Field, FieldsModal

        async def change(values: dict[str, str]) -> str:
            if values["new"] != values["again"]:
                from studio_tui.services.errors import ValidationError

                raise ValidationError("The two new passwords differ.",
                                      field_errors={"again": "differs"})
            await self.studio.change_password(values["old"], values["new"])
            return "Password changed; your other sessions have ended."

        self.push_screen(FieldsModal("Change password", [
            Field("old", "Current", secret=True), Field("new", "New", secret=True),
            Field("again", "Again", secret=True)], change), self._said)

    def action_two_factor(self) -> None:
        """Two-factor sign-in: enable (the otpauth URI shown once, then a code) or disable
        (the password and a code)."""
        from studio_tui.dialogs.fields import Field, FieldsModal

        session = self.studio.session
        if session is None:
            return
        if session.user.totp_secret:
            async def disable(values: dict[str, str]) -> str:
                await self.studio.disable_totp(values["password"], values["code"])
                return "Two-factor sign-in is off."

            self.push_screen(FieldsModal(
                "Turn off two-factor sign-in",
                [Field("password", "Password", secret=True),
                 Field("code", "Code", placeholder="6 digits from the app")],
                disable, save_label="Turn off"), self._said)
            return
        self.run_worker(self._enable_two_factor(), group="two-factor", exclusive=True,
                        exit_on_error=False, description="start two-factor set-up")

    async def _enable_two_factor(self) -> None:
        from studio_tui.dialogs.fields import Field, FieldsModal

        try:
            uri = await self.studio.start_totp()
        except StudioError as error:
            show_error = getattr(self.screen, "show_error", None)
            show_error(error) if show_error else self.notify(error.detail, severity="error")
            return

        async def confirm(values: dict[str, str]) -> str:
            await self.studio.confirm_totp(values["code"])
            return "Two-factor sign-in is on: sign-in now asks for a code."

        self.push_screen(FieldsModal(
            "Turn on two-factor sign-in",
            [Field("code", "Code", placeholder="6 digits from the app")], confirm,
            save_label="Turn on",
            note="Add this to your authenticator app (shown only now; it holds the secret), "
                 f"then type the code it shows:\n\n{uri}\n\nOr type the key in the app: "
                 f"{_grouped_key(uri)}"), self._said)

    def _said(self, message: str | None) -> None:
        if message:
            self.notify(message)

    def action_sign_out(self) -> None:
        self.run_worker(self._sign_out(), group="sign-out", exclusive=True, exit_on_error=False)

    async def _sign_out(self) -> None:
        from studio_tui.screens.team.sign_in import SignInScreen

        await self.studio.sign_out()
        self.sub_title = ""
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.switch_screen(SignInScreen())

    def action_command(self) -> None:
        self.run_worker(self._open_command_bar(), group="command-bar", exclusive=True,
                        exit_on_error=False)

    async def _open_command_bar(self) -> None:
        from studio_tui.dialogs.command import CommandModal

        self.push_screen(CommandModal(self.nav.run_command, await self.nav.suggestions()))

    def action_help(self) -> None:
        self.nav.open_help()

    def action_health(self) -> None:
        self.nav.open_health()

    def action_problems(self) -> None:
        from studio_tui.dialogs.error_view import ErrorViewModal

        self.push_screen(ErrorViewModal(self.problems.newest_first()))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        log_failed_worker(event.worker)

    def _handle_exception(self, error: Exception) -> None:
        # Textual's one way in for an exception nothing handled; it ends the app, painting the
        # traceback on the terminal on the way out. The log keeps it for the bug report.
        log_crash(error)
        super()._handle_exception(error)

    def fail(self, error: StudioError) -> None:
        """A problem the app cannot work past (wrong key, broken catalog): leave and say why."""
        self.fatal_error = error
        self.exit(return_code=2)

    async def on_unmount(self) -> None:
        self.frozen_heap.thaw()
        await self.studio.close()


def make_app(settings: Settings, env: Mapping[str, str] | None = None) -> StudioApp:
    """The composition root, shared by the CLI and the tests."""
    return StudioApp(Studio(settings, env))


def _grouped_key(otpauth_uri: str) -> str:
    """The secret of an otpauth URI in groups of four, easier to type than a wrapped URI."""
    from urllib.parse import parse_qs, urlsplit

    key = parse_qs(urlsplit(otpauth_uri).query).get("secret", [""])[0]
    return " ".join(key[i:i + 4] for i in range(0, len(key), 4))
