"""The audit log: every change and every refused attempt, newest first; filters (user, action,
database, time range) and an export to JSON Lines."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.binding import Binding

from studio_tui.dialogs.fields import Field, FieldsModal
from studio_tui.screens.catalog.list_screen import CatalogScreen
from studio_tui.services.errors import ValidationError
from studio_tui.services.platform.models import AuditEntry, AuditFilter
from studio_tui.widgets.catalog_table import CatalogRow

PAGE = 500
_OUTCOME_STYLE = {"denied": "bold red", "failed": "yellow"}
ANY_OUTCOME = "any"
# denied: refused by a role, a read-only entry or a login limit; failed: tried and went wrong.
OUTCOMES = (ANY_OUTCOME, "ok", "denied", "failed")


def parse_time(text: str, field: str) -> str | None:
    """``2026-11-28`` or ``2026-11-28T12:00`` (UTC), as the catalog stores times."""
    from datetime import UTC, datetime

    text = text.strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError("A time is YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC).",
                              field_errors={field: "YYYY-MM-DD[THH:MM]"}) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds")


class AuditScreen(CatalogScreen):
    CSS_PATH = "../../styles/catalog.tcss"
    # The outcome before the long columns: a refusal must show at 80 columns too.
    COLUMNS = ("Time (UTC)", "User", "Action", "Outcome", "Database", "Target")
    BINDINGS = [
        Binding("f", "filter", "Filter", id="audit.filter"),
        Binding("x", "export", "Export", id="audit.export"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.filter = AuditFilter()
        self._typed: dict[str, str] = {}

    def breadcrumb(self) -> str:
        shown = [f"{k} {v}" for k, v in self._typed.items() if v and v != ANY_OUTCOME]
        return "Audit log" + (" · " + ", ".join(shown) if shown else "")

    async def fetch_rows(self) -> list[CatalogRow]:
        entries = await self.studio.catalog.audit_log(self.filter, PAGE)
        self.items = {str(e.id): e for e in entries}
        return [self._row(e) for e in entries]

    @staticmethod
    def _row(entry: AuditEntry) -> CatalogRow:
        outcome = Text(entry.outcome, style=_OUTCOME_STYLE.get(entry.outcome, ""))
        when = entry.at[:19].replace("T", " ")
        return CatalogRow(str(entry.id), (when, entry.user_name or entry.user_id, entry.action,
                                          outcome, entry.database, entry.target),
                          f"{entry.user_name} {entry.action} {entry.database} {entry.target} "
                          f"{entry.outcome} {entry.detail}".lower())

    def summary(self, rows: list[CatalogRow]) -> str:
        more = f" (the newest {PAGE})" if len(rows) >= PAGE else ""
        return f"{len(rows)} entries{more} · f filters · x exports JSON Lines · enter shows one"

    def choose(self, key: str) -> None:
        from studio_tui.dialogs.confirm import ConfirmModal

        entry = self.items[key]
        assert isinstance(entry, AuditEntry)
        lines = [f"{name}: {value}" for name, value in (
            ("time", entry.at), ("user", f"{entry.user_name} ({entry.user_id})"),
            ("organization", entry.org), ("project", entry.project),
            ("database", entry.database), ("target", entry.target),
            ("outcome", entry.outcome), ("detail", entry.detail),
            ("duration", "" if entry.duration_ms is None else f"{entry.duration_ms} ms"),
            ("operation", entry.operation_id), ("origin", entry.origin)) if value]
        self.app.push_screen(ConfirmModal(f"Audit entry {entry.id}", "\n".join(lines),
                                          confirm_label="Close"))

    def action_filter(self) -> None:
        typed = self._typed

        async def apply(values: dict[str, str]) -> dict[str, str]:
            self.filter = AuditFilter(
                user=values["user"].strip() or None, action=values["action"].strip() or None,
                database=values["database"].strip() or None,
                outcome=None if values["outcome"] == ANY_OUTCOME else values["outcome"],
                since=parse_time(values["since"], "since"),
                until=parse_time(values["until"], "until"))
            return values

        self.app.push_screen(FieldsModal("Filter the audit log", [
            Field("user", "User", typed.get("user", ""), "id or name"),
            Field("action", "Action", typed.get("action", ""), "e.g. UNLINK, sign in"),
            Field("database", "Database", typed.get("database", ""), "entry name"),
            Field("outcome", "Outcome", typed.get("outcome", ANY_OUTCOME), choices=OUTCOMES),
            Field("since", "Since", typed.get("since", ""), "YYYY-MM-DD[THH:MM] UTC"),
            Field("until", "Until", typed.get("until", ""), "YYYY-MM-DD[THH:MM] UTC"),
        ], apply, save_label="Filter"), self._filtered)

    def _filtered(self, values: dict[str, str] | None) -> None:
        if values is None:
            return
        self._typed = values
        self.breadcrumb_line.update(self.breadcrumb())
        self.load()

    def action_export(self) -> None:
        default = str(self.studio.settings.data_dir / "audit.jsonl")

        async def export(values: dict[str, str]) -> str:
            path = Path(values["path"].strip() or default).expanduser()
            return f"Exported {await self._export(path)} entries to {path}."

        self.app.push_screen(FieldsModal("Export the audit log (JSON Lines)",
                                         [Field("path", "File", default)], export,
                                         save_label="Export"), self._exported)

    async def _export(self, path: Path) -> int:
        try:
            with path.open("w") as out:
                return await self.studio.catalog.write_audit_jsonl(out)
        except OSError as error:
            raise ValidationError(f"Cannot write {path}: {error.strerror}.",
                                  field_errors={"path": "not writable"}) from None

    def _exported(self, message: str | None) -> None:
        self.say(message)
