"""Team mode's first screen: sign in (with the authenticator code when the account has one),
sign up when the shared catalog has no user yet, or join with an invitation token. A saved
session that is still valid skips it."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Header, Input, Label, Static

from studio_tui.screens.base import StudioScreen
from studio_tui.services.errors import AuthenticationError, StudioError, VaultError
from studio_tui.widgets.chrome import Breadcrumb, StatusLine, StudioFooter
from studio_tui.widgets.ordered_input import OrderedInput

# Which fields each mode shows, in order.
MODES = {
    "sign in": ("email", "password", "totp"),
    "sign up": ("email", "name", "password", "again", "org"),
    "invitation": ("token", "email", "name", "password"),
}
# In the order they are shown, whatever the mode.
LABELS = {"token": "Invitation", "email": "Email", "name": "Name", "password": "Password",
          "again": "Again", "totp": "Code", "org": "Organization"}
SECRET = {"password", "again"}


class SignInScreen(StudioScreen[None]):
    DEFAULT_CSS = """
    SignInScreen #form {
        width: 72;
        max-width: 100%;
        height: auto;
        margin: 1 1 0 1;
        padding: 0 1;
        border: round $primary;
    }
    SignInScreen .field {
        height: 1;
        margin-bottom: 1;
    }
    SignInScreen .field Label {
        width: 14;
        color: $text-muted;
    }
    SignInScreen .field Input {
        width: 1fr;
        background: $boost;
    }
    SignInScreen #intro {
        color: $text-muted;
        padding-bottom: 1;
    }
    SignInScreen #error {
        color: $error;
        height: auto;
    }
    """
    BINDINGS = [
        Binding("ctrl+s", "submit", "Sign in", id="signin.submit"),
        Binding("ctrl+t", "invitation", "Invitation", id="signin.invitation"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.mode = "sign in"

    def compose(self) -> ComposeResult:
        yield Header()
        yield Breadcrumb("Sign in")
        with Vertical(id="form"):
            yield Static("", id="intro", markup=False)
            for name, label in LABELS.items():
                with Horizontal(classes="field", id=f"row-{name}"):
                    yield Label(label, markup=False)
                    yield OrderedInput(id=name, password=name in SECRET, compact=True,
                                placeholder="6-digit code, if your account has one"
                                if name == "totp" else "")
            yield Static("", id="error", markup=False)
            yield Button("Sign in", variant="primary", id="submit", compact=True)
        yield StatusLine("Opening the shared catalog…")
        yield StudioFooter()

    def on_mount(self) -> None:
        self._show("sign in")
        self.query_one("#form").display = False
        self.call_after_refresh(self.start)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "back":
            return False  # nothing is behind it
        return True

    def _show(self, mode: str) -> None:
        self.mode = mode
        for name in LABELS:
            self.query_one(f"#row-{name}").display = name in MODES[mode]
        self.breadcrumb_line.update(mode.capitalize().replace("Invitation", "Join with an "
                                                               "invitation"))
        intro = {
            "sign in": "Sign in to the team catalog. ctrl+t joins with an invitation token.",
            "sign up": "This catalog has no user yet: sign up, and own its first organization.",
            "invitation": "Paste the token you were given; a new account is made for the "
                          "email, or yours is added.",
        }[mode]
        self.query_one("#intro", Static).update(intro)
        self.query_one("#submit", Button).label = {"sign in": "Sign in", "sign up": "Sign up",
                                                    "invitation": "Join"}[mode]
        self.query_one(f"#{MODES[mode][0]}", Input).focus()

    @work(group="sign-in", exclusive=True, exit_on_error=False, description="open the catalog")
    async def start(self) -> None:
        studio = self.studio
        try:
            await studio.open()
            signed_in = await studio.resume_session()
        except VaultError as error:
            self.studio_app.fail(error)
            return
        except AuthenticationError as error:  # the saved session ended: say why, then ask
            signed_in = None
            self.say(error.detail)
        except StudioError as error:
            self.show_error(error)
            return
        if signed_in is not None:
            self.studio_app.signed_in()
            return
        self.query_one("#form").display = True
        if await studio.accounts.needs_sign_up():
            self._show("sign up")
        else:
            self._show("sign in")
        if not self.status_line.content or "Opening" in str(self.status_line.content):
            self.say("tab moves between fields · enter submits")

    async def _still_empty(self) -> bool:
        try:
            return await self.studio.accounts.needs_sign_up()
        except StudioError:
            return True  # unknown: keep the form as it is

    def action_invitation(self) -> None:
        self._show("sign in" if self.mode == "invitation" else "invitation")

    @on(Input.Submitted)
    @on(Button.Pressed, "#submit")
    def action_submit(self) -> None:
        self.submit({name: self.query_one(f"#{name}", Input).value for name in LABELS})

    @work(group="sign-in", exclusive=True, exit_on_error=False, description="sign in")
    async def submit(self, values: dict[str, str]) -> None:
        from studio_tui.services.platform.auth import TotpRequiredError

        studio = self.studio
        error_line = self.query_one("#error", Static)
        error_line.update("")
        self.say("Checking…")
        try:
            missing = next((n for n in MODES[self.mode] if n != "totp" and n != "name"
                            and n != "org" and not values[n].strip()), None)
            if missing is not None:
                raise AuthenticationError(f"{LABELS[missing]} is missing.",
                                          field_errors={missing: "missing"})
            if self.mode == "sign up":
                if values["password"] != values["again"]:
                    raise AuthenticationError("The two passwords differ.",
                                              field_errors={"again": "differs"})
                await studio.sign_up(values["email"], values["password"], values["name"],
                                     values["org"].strip() or "Team")
            elif self.mode == "invitation":
                await studio.accept_invitation(values["token"], values["email"],
                                               values["password"], values["name"])
            else:
                await studio.sign_in(values["email"], values["password"], values["totp"])
        except TotpRequiredError as error:
            self.say(error.detail)
            self.query_one("#totp", Input).focus()
            return
        except StudioError as error:
            self.remember(error)
            if self.mode == "sign up" and not await self._still_empty():
                # Someone else signed up first: what is left is joining by their invitation.
                self._show("invitation")
                self.query_one("#email", Input).value = values["email"]
            error_line.update(f"{error.title}: {error.detail}")
            self.say("tab moves between fields · enter submits")
            named = next((n for n in error.field_errors if n in MODES[self.mode]), None)
            password = self.query_one("#password", Input)
            password.value = ""  # typed again, never kept on screen longer than needed
            self.query_one(f"#{named or 'password'}", Input).focus()
            return
        self.studio_app.signed_in()
