"""Add or edit a saved database connection: paste a URL (its password moves to a masked field),
pick a tier, test it, save it. Every field survives every error."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from studio_tui.dialogs.base import Dialog

from studio_tui.services.errors import StudioError, ValidationError
from studio_tui.services.kinds import KINDS, DatabaseKind
from studio_tui.services.platform.models import DatabaseEntry, Project
from studio_tui.services.tiers import Tier
from studio_tui.services.urls import parse_connection_url, split_password, with_password
from studio_tui.widgets.ordered_input import OrderedInput

if TYPE_CHECKING:
    from studio_tui.services.studio import Studio

FIELDS = ("name", "url", "password", "tier", "tags", "meta_url", "meta_key")
# Shown for a PostgreSQL URL only: where its pg-meta answers, and pg-meta's CRYPTO_KEY.
META_FIELDS = ("meta_url", "meta_key")
_FIRST, *_OTHERS = KINDS.values()
URL_HINT = (f"{_FIRST.url_example}  (or "
            f"{', '.join(spec.schemes[0] + '://' for spec in _OTHERS)}…)")


class DatabaseFormModal(Dialog[DatabaseEntry | None]):
    # Compact rows, so the whole form fits 80x24.
    DEFAULT_CSS = """
    DatabaseFormModal #dialog {
        width: 84;
    }
    DatabaseFormModal #fields {
        layout: grid;
        grid-size: 2;
        grid-columns: 9 1fr;
        grid-rows: 1;
        grid-gutter: 0 1;
        height: 7;  /* name, url, kind, password, tier, access, tags */
    }
    DatabaseFormModal #fields.-postgres {
        height: 9;  /* and pg-meta's URL and key */
    }
    DatabaseFormModal #fields Label {
        color: $text-muted;
        text-align: right;
        width: 100%;
    }
    DatabaseFormModal .-invalid {
        background: $error 30%;
    }
    DatabaseFormModal Select {
        height: 1;
        width: 24;
    }
    DatabaseFormModal Checkbox {
        border: none;
        height: 1;
        padding: 0;
    }
    DatabaseFormModal #kind {
        height: 1;
    }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="form.cancel"),
        Binding("ctrl+s", "save", "Save", id="form.save"),
        Binding("ctrl+t", "test", "Test connection", id="form.test"),
    ]

    def __init__(self, project: Project | None, entry: DatabaseEntry | None = None) -> None:
        super().__init__()
        self.project = project
        self.entry = entry

    @property
    def studio(self) -> "Studio":
        return self.studio_app.studio

    def compose(self) -> ComposeResult:
        title = f"Edit {self.entry.name}" if self.entry else f"Add a database to {self.project.name}"
        with Vertical(id="dialog"):
            yield Label(title, id="title", markup=False)
            with Grid(id="fields"):
                yield Label("Name")
                yield OrderedInput(placeholder="orders-prod", id="name")
                yield Label("URL")
                yield OrderedInput(placeholder=URL_HINT, id="url")
                yield Label("")
                yield Static("", id="kind", markup=False)
                yield Label("Password")
                yield OrderedInput(password=True, placeholder="kept out of the URL field",
                                   id="password")
                yield Label("Tier")
                yield Select([(t.value, t.value) for t in Tier], value=Tier.FREE.value,
                             allow_blank=False, id="tier")
                yield Label("Access")
                yield Checkbox("Read-only", id="read_only")
                yield Label("Tags")
                yield OrderedInput(placeholder="prod, eu  (comma separated)", id="tags")
                yield Label("pg-meta", classes="meta")
                yield OrderedInput(placeholder="http://host:8080  (optional: read the catalog "
                                   "through pg-meta)", id="meta_url", classes="meta")
                yield Label("Meta key", classes="meta")
                yield OrderedInput(password=True, placeholder="pg-meta's CRYPTO_KEY",
                                   id="meta_key", classes="meta")
            yield Static("", id="error", markup=False)
            with Horizontal(id="buttons"):
                yield Button("Test ^t", id="test")
                yield Button("Save ^s", variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self._show_meta(False)
        self.query_one("#name", Input).focus()
        if self.entry is not None:
            self.fill_from_entry(self.entry)

    @work(group="form-load", exclusive=True, exit_on_error=False, description="load entry")
    async def fill_from_entry(self, entry: DatabaseEntry) -> None:
        bare, password = split_password(self.studio.catalog.database_url(entry))
        self.query_one("#name", Input).value = entry.name
        self.query_one("#url", Input).value = bare
        self.query_one("#password", Input).value = password
        self.query_one("#tier", Select).value = entry.tier.value
        self.query_one("#read_only", Checkbox).value = entry.read_only
        self.query_one("#tags", Input).value = ", ".join(entry.tags)
        meta_url, meta_key = self.studio.catalog.pg_meta(entry)
        self.query_one("#meta_url", Input).value = meta_url
        self.query_one("#meta_key", Input).value = meta_key

    def _show_meta(self, show: bool) -> None:
        self.query_one("#fields").set_class(show, "-postgres")
        for widget in self.query(".meta"):
            widget.display = show

    def pg_meta(self) -> tuple[str, str] | None:
        """(pg-meta URL, key) for a PostgreSQL URL; None for the other kinds."""
        if not self.query_one("#fields").has_class("-postgres"):
            return None
        return (self.query_one("#meta_url", Input).value.strip(),
                self.query_one("#meta_key", Input).value)

    # -- the URL field never keeps a password on screen ------------------------------------
    @on(Input.Changed, "#url")
    def _url_changed(self, event: Input.Changed) -> None:
        bare, password = split_password(event.value)
        if password:
            self.query_one("#password", Input).value = password
            event.input.value = bare  # fires Changed again, now without the password
            return
        kind = self.query_one("#kind", Static)
        if not event.value.strip():
            kind.update("")
            self._show_meta(False)
            return
        try:
            target = parse_connection_url(event.value)
        except ValidationError as error:
            kind.update(Text(f"✖ {next(iter(error.field_errors.values()), error.detail)}",
                             style="red"))
            self._show_meta(False)
        else:
            kind.update(Text(f"✓ {target.kind.value} at {target.display_host}", style="green"))
            self._show_meta(target.kind is DatabaseKind.POSTGRES)

    def full_url(self) -> str:
        return with_password(self.query_one("#url", Input).value.strip(),
                             self.query_one("#password", Input).value)

    # -- test and save ---------------------------------------------------------------------------
    @on(Button.Pressed, "#test")
    def action_test(self) -> None:
        self.test_connection(self.full_url(), Tier(self.query_one("#tier", Select).value))

    @work(group="form-test", exclusive=True, exit_on_error=False, description="test connection")
    async def test_connection(self, url: str, tier: Tier) -> None:
        self.show_message(Text("Testing…", style="cyan"))
        try:
            result = await self.studio.manager.probe(url, tier)
        except StudioError as error:
            self.show_error(error)
            return
        self.show_message(Text(f"✓ Connected in {result.latency_ms:.1f} ms · {result.kind} "
                               f"{result.version}", style="green"))

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        self.save()

    @work(group="form-save", exclusive=True, exit_on_error=False, description="save entry")
    async def save(self) -> None:
        catalog = self.studio.catalog
        name = self.query_one("#name", Input).value
        tier = Tier(self.query_one("#tier", Select).value)
        read_only = self.query_one("#read_only", Checkbox).value
        tags = [t for t in self.query_one("#tags", Input).value.split(",") if t.strip()]
        try:
            if self.entry is None:
                assert self.project is not None
                saved = await catalog.add_database(self.project.id, name, self.full_url(),
                                                   tier=tier, read_only=read_only, tags=tags,
                                                   pg_meta=self.pg_meta())
            else:
                saved = await catalog.update_database(self.entry.id, name=name,
                                                      url=self.full_url(), tier=tier,
                                                      read_only=read_only, tags=tags,
                                                      pg_meta=self.pg_meta() or ("", ""),
                                                      # Another instance's save since this
                                                      # form opened is a conflict, not lost.
                                                      version=self.entry.version)
        except StudioError as error:
            self.show_error(error)
            return
        self.dismiss(saved)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    def show_message(self, message: Text) -> None:
        self.query_one("#error", Static).update(message)

    def show_error(self, error: StudioError) -> None:
        self.remember(error)
        for field in FIELDS:
            invalid = field in error.field_errors
            self.query_one(f"#{field}").set_class(invalid, "-invalid")
        self.show_message(Text.assemble(("✖ " + error.title, "bold red"), ": ", error.detail))
        first = next((f for f in FIELDS if f in error.field_errors), None)
        if first is not None:
            self.query_one(f"#{first}").focus()
