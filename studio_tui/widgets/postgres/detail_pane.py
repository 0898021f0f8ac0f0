"""The detail pane beside the PostgreSQL tree: what the highlighted object is, from models only.

A relation has sections (columns, constraints, indexes, policies, triggers, definition), one on
screen at a time, chosen with 1–6; its header (kind, rows, sizes, RLS) stays on top."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from studio_tui.services.postgres.models import (
    CatalogObject,
    Column,
    ExtensionDetail,
    FunctionDetail,
    PublicationDetail,
    RelationDetail,
    RoleDetail,
    Sizes,
    TypeDetail,
    display_name,
)
from studio_tui.widgets.sizes import format_bytes

SECTIONS = ("Columns", "Constraints", "Indexes", "Policies", "Triggers", "Definition")
KIND_NAMES = {"table": "table", "partitioned": "partitioned table", "view": "view",
              "matview": "materialized view", "foreign": "foreign table", "sequence": "sequence",
              "function": "function", "procedure": "procedure", "type": "type",
              "policy": "policy", "trigger": "trigger", "extension": "extension",
              "publication": "publication", "role": "role", "schema": "schema"}


def format_rows(rows: float | None) -> str:
    return "not analyzed yet" if rows is None else f"≈{rows:,.0f}"


def _table(*headers: str) -> Table:
    table = Table(box=None, pad_edge=False, expand=True, show_edge=False,
                  header_style="bold", padding=(0, 1, 0, 0))
    for header in headers:
        table.add_column(header, overflow="fold")
    return table


def _muted(text: str) -> Text:
    return Text(text, style="dim")


def _title(obj: CatalogObject, parent: str = "") -> Text:
    title = Text()
    if obj.schema:
        title.append(display_name(obj.schema), style="dim")
        title.append(" . ", style="dim")
    title.append(display_name(obj.label), style="bold")
    title.append(f"  {KIND_NAMES.get(obj.kind, obj.kind)}", style="italic dim")
    if parent:
        relation = "partition of" if obj.kind in ("table", "partitioned") else "on"
        title.append(f" {relation} {display_name(parent)}", style="italic dim")
    return title


def sizes_text(sizes: Sizes) -> Text:
    how = "" if sizes.exact else " (estimated)"
    return Text.assemble(
        ("size ", "dim"), format_bytes(sizes.total), (f"{how} · table ", "dim"),
        format_bytes(sizes.table), (" · toast ", "dim"), format_bytes(sizes.toast),
        (" · indexes ", "dim"), format_bytes(sizes.indexes))


def relation_header(obj: CatalogObject, detail: RelationDetail | None, parent: str) -> Group:
    lines: list[RenderableType] = [_title(obj, parent)]
    if detail is None:
        lines.append(_muted("details loading…"))
        return Group(*lines)
    facts = Text()
    if obj.kind in ("table", "matview"):  # views, foreign and partitioned tables keep no count
        facts.append_text(Text.assemble(("rows ", "dim"), format_rows(detail.rows)))
    if obj.kind in ("table", "partitioned"):
        rls = "forced" if detail.rls_forced else "on" if detail.rls else "off"
        facts.append_text(Text.assemble((" · " if facts else "", "dim"), ("RLS ", "dim"), rls))
    if facts:
        lines.append(facts)
    if obj.kind not in ("view", "foreign"):
        lines.append(sizes_text(detail.sizes))
    if detail.partition_key:
        lines.append(Text.assemble(("partitioned by ", "dim"), detail.partition_key))
    if detail.partition_bound:
        lines.append(Text.assemble(("partition ", "dim"), detail.partition_bound))
    if detail.comment:
        lines.append(Text(detail.comment, style="italic"))
    return Group(*lines)


def sequence_view(obj: CatalogObject, sizes: Sizes | None) -> Group:
    return Group(_title(obj), sizes_text(sizes) if sizes is not None else _muted("loading…"))


def section_bar(current: int) -> Text:
    bar = Text()
    for number, name in enumerate(SECTIONS, 1):
        if number > 1:
            bar.append(" ")
        style = "reverse bold" if number - 1 == current else "dim"
        bar.append(f"{number} {name}", style=style)
    return bar


def relation_section(detail: RelationDetail | None, columns: list[Column] | None,
                     section: int) -> RenderableType:
    """``columns`` None: not read yet (they come before the rest of the details)."""
    name = SECTIONS[section]
    if name == "Columns":
        if columns is None:
            return _muted("columns loading…")
        if not columns:
            return _muted("no columns")
        table = _table("#", "column", "type", "null", "default")
        for column in columns:
            if column.generated is not None:
                extra = f"generated: {column.generated}"
            elif column.identity:
                extra = f"identity {column.identity}"
            else:
                extra = column.default or ""
            name_cell = Text(display_name(column.name))
            if column.comment:
                name_cell.append(f"\n{column.comment}", style="italic dim")
            table.add_row(str(column.position), name_cell, column.type,
                          "" if column.not_null else "null", extra)
        return table
    if detail is None:
        return _muted("loading…")
    if name == "Constraints":
        if not detail.constraints:
            return _muted("no constraints")
        table = _table("constraint", "type", "definition")
        for constraint in detail.constraints:
            table.add_row(display_name(constraint.name), constraint.type, constraint.definition)
        return table
    if name == "Indexes":
        if not detail.indexes:
            return _muted("no indexes")
        table = _table("index", "size", "scans", "definition")
        for index in detail.indexes:
            table.add_row(display_name(index.name), format_bytes(index.bytes),
                          "-" if index.scans is None else f"{index.scans:,}", index.definition)
        return table
    if name == "Policies":
        state = "forced" if detail.rls_forced else "enabled" if detail.rls else "disabled"
        lines: list[RenderableType] = [Text.assemble(("row level security ", "dim"), state)]
        if not detail.policies:
            lines.append(_muted("no policies"))
        for policy in detail.policies:
            lines.append(Text.assemble(
                (display_name(policy.name), "bold"), "  ", policy.command, " ",
                ("permissive" if policy.permissive else "restrictive", "dim"),
                ("  to ", "dim"), ", ".join(display_name(r) for r in policy.roles)))
            if policy.using:
                lines.append(Text.assemble(("  USING ", "dim"), policy.using))
            if policy.check:
                lines.append(Text.assemble(("  WITH CHECK ", "dim"), policy.check))
        return Group(*lines)
    if name == "Triggers":
        if not detail.triggers:
            return _muted("no triggers")
        table = _table("trigger", "when", "events", "function")
        for trigger in detail.triggers:
            state = "" if trigger.enabled else " (disabled)"
            table.add_row(display_name(trigger.name) + state,
                          f"{trigger.timing} {trigger.level}", " OR ".join(trigger.events),
                          trigger.function)
        return table
    if detail.definition:
        return Text(detail.definition.strip())
    return _muted("no definition (only views and materialized views have one)")


def function_view(obj: CatalogObject, detail: FunctionDetail | None) -> Group:
    if detail is None:
        return Group(_title(obj), _muted("loading…"))
    lines: list[RenderableType] = [_title(obj), Text(detail.signature),
                                   Text.assemble(("language ", "dim"), detail.language)]
    if detail.comment:
        lines.append(Text(detail.comment, style="italic"))
    lines.append(Text(""))
    lines.append(Text(detail.source.rstrip()))
    return Group(*lines)


def type_view(obj: CatalogObject, detail: TypeDetail | None) -> Group:
    if detail is None:
        return Group(_title(obj), _muted("loading…"))
    lines: list[RenderableType] = [_title(obj), Text.assemble(("kind ", "dim"), detail.flavour)]
    if detail.flavour == "enum":
        lines.append(Text.assemble(("labels ", "dim"), ", ".join(detail.labels)))
    elif detail.flavour == "composite":
        table = _table("attribute", "type")
        for name, type_ in detail.attributes:
            table.add_row(display_name(name), type_)
        lines.append(table)
    else:
        lines.append(Text.assemble(("base ", "dim"), detail.base))
        lines.extend(Text.assemble(("  ", "dim"), check) for check in detail.constraints)
    if detail.comment:
        lines.append(Text(detail.comment, style="italic"))
    return Group(*lines)


def extension_view(obj: CatalogObject, detail: ExtensionDetail | None) -> Group:
    if detail is None:
        return Group(_title(obj), _muted("loading…"))
    installed = (f"installed {detail.installed_version} in {display_name(detail.schema)}"
                 if detail.installed_version else "not installed")
    return Group(_title(obj), Text(installed),
                 Text.assemble(("default version ", "dim"), detail.default_version),
                 Text(detail.comment or "", style="italic"))


def publication_view(obj: CatalogObject, detail: PublicationDetail | None) -> Group:
    if detail is None:
        return Group(_title(obj), _muted("loading…"))
    lines: list[RenderableType] = [
        _title(obj), Text.assemble(("publishes ", "dim"), ", ".join(detail.actions) or "nothing")]
    if detail.all_tables:
        lines.append(Text("all tables"))
    else:
        lines.append(Text.assemble(("tables ", "dim"), f"{len(detail.tables)}"))
        lines.extend(Text(f"  {name}") for name in detail.tables)
    return Group(*lines)


def role_view(obj: CatalogObject, detail: RoleDetail | None) -> Group:
    if detail is None:
        return Group(_title(obj), _muted("loading…"))
    flags = [name for name, on in (
        ("superuser", detail.superuser), ("login", detail.login),
        ("create database", detail.create_db), ("create role", detail.create_role),
        ("replication", detail.replication), ("bypass RLS", detail.bypass_rls)) if on]
    limit = "no limit" if detail.connection_limit < 0 else str(detail.connection_limit)
    lines: list[RenderableType] = [
        _title(obj), Text(", ".join(flags) or "no attributes"),
        Text.assemble(("connection limit ", "dim"), limit)]
    if detail.member_of:
        lines.append(Text.assemble(("member of ", "dim"),
                                   ", ".join(display_name(r) for r in detail.member_of)))
    return Group(*lines)


def owned_view(obj: CatalogObject, parent: str, detail: RelationDetail | None) -> Group:
    """A policy or trigger, from its table's details."""
    lines: list[RenderableType] = [_title(obj, parent)]
    if detail is None:
        lines.append(_muted("loading…"))
        return Group(*lines)
    if obj.kind == "policy":
        for policy in detail.policies:
            if policy.name == obj.name:
                lines += [Text.assemble(("command ", "dim"), policy.command),
                          Text.assemble(("roles ", "dim"), ", ".join(policy.roles)),
                          Text("permissive" if policy.permissive else "restrictive"),
                          Text.assemble(("USING ", "dim"), policy.using or "—"),
                          Text.assemble(("WITH CHECK ", "dim"), policy.check or "—")]
    else:
        for trigger in detail.triggers:
            if trigger.name == obj.name:
                lines += [Text.assemble(("when ", "dim"), f"{trigger.timing} "
                                        f"{' OR '.join(trigger.events)} FOR EACH {trigger.level}"),
                          Text.assemble(("function ", "dim"), trigger.function),
                          Text("enabled" if trigger.enabled else "disabled"),
                          Text(""), Text(trigger.definition)]
    return Group(*lines)


def summary_view(title: str, lines: list[tuple[str, str]]) -> Group:
    table = _table("", "")
    table.show_header = False
    table.expand = False
    for label, value in lines:
        table.add_row(_muted(label), value)
    return Group(Text(title, style="bold"), table)


class DetailPane(VerticalScroll, can_focus=True):
    """Scrolls from the keyboard once focused (tab)."""

    DEFAULT_CSS = """
    DetailPane { height: 1fr; }
    DetailPane > #detail-header { height: auto; }
    DetailPane > #detail-sections { height: auto; margin: 1 0 0 0; }
    DetailPane > #detail-body { height: auto; margin: 1 0 0 0; }
    """

    def compose(self):
        yield Static("", id="detail-header", markup=False)
        yield Static("", id="detail-sections", markup=False)
        yield Static("", id="detail-body", markup=False)

    def show(self, header: RenderableType, body: RenderableType | None = None,
             sections: Text | None = None) -> None:
        self.query_one("#detail-header", Static).update(header)
        bar = self.query_one("#detail-sections", Static)
        bar.update(sections or "")
        bar.display = sections is not None
        body_widget = self.query_one("#detail-body", Static)
        body_widget.update(body if body is not None else "")
        body_widget.display = body is not None
        self.scroll_home(animate=False)

    def clear(self) -> None:
        self.show(Text(""))

