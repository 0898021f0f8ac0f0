"""How the server runs a find or an aggregation (`explain`, executionStats): the winning plan as
a tree (COLLSCAN, IXSCAN, FETCH, SORT…) with the index each stage used and what it examined,
the totals (keys and documents examined against documents returned, and the time), a verdict
on the indexes, and the stage where most of the work happened, highlighted."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from rich.tree import Tree
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Header, Static

from studio_tui.screens.mongo.tool import MongoToolScreen
from studio_tui.services.errors import StudioError
from studio_tui.services.mongo import explain
from studio_tui.services.mongo.ejson import compact
from studio_tui.services.mongo.models import FindQuery
from studio_tui.widgets.chrome import Breadcrumb, StatusLine, StudioFooter

_SCANS = {"COLLSCAN": "bold red", "IXSCAN": "bold green", "FETCH": "bold cyan",
          "SORT": "bold yellow"}


def _figures(node: explain.PlanNode) -> str:
    shown = [f"{label} {value:,}" for label, value in (
        ("returned", node.returned), ("keys", node.keys_examined),
        ("docs", node.docs_examined)) if value is not None]
    if node.millis is not None:
        shown.append(f"~{node.millis:,} ms")
    return " · ".join(shown)


def plan_tree(report: explain.ExplainReport) -> Tree | Text:
    if report.root is None:
        return Text("No plan.")

    def label(node: explain.PlanNode) -> Text:
        text = Text(node.stage, style=_SCANS.get(node.stage, "bold"))
        if node.detail:
            text.append(f"  {node.detail}", style="dim")
        figures = _figures(node)
        if figures:
            text.append(f"  {figures}")
        if node.costly:
            text.stylize("reverse", 0, len(node.stage))
            text.append("  ◀ most work", style="bold red")
        return text

    tree = Tree(label(report.root), guide_style="dim")

    def add(parent: Tree, node: explain.PlanNode) -> None:
        for child in node.children:
            add(parent.add(label(child)), child)

    add(tree, report.root)
    return tree


def summary(report: explain.ExplainReport) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()

    def count(value: int | None) -> str:
        return "-" if value is None else f"{value:,}"

    grid.add_row("Returned", count(report.returned))
    grid.add_row("Keys examined", count(report.keys_examined))
    grid.add_row("Docs examined", count(report.docs_examined))
    grid.add_row("Time", "-" if report.millis is None else f"{report.millis:,} ms")
    grid.add_row("Indexes", ", ".join(report.indexes) or "none")
    grid.add_row("Engine", "slot-based (SBE)" if report.engine == "sbe" else "classic")
    style = "bold red" if report.wasteful else "bold green"
    grid.add_row("Verdict", Text(report.verdict, style=style))
    for note in report.notes:
        grid.add_row("Note", note)
    return grid


class ExplainScreen(MongoToolScreen[None]):
    CSS_PATH = "../../styles/mongo_tools.tcss"
    TOOL = "explain"
    BINDINGS = [Binding("r", "refresh", "Run again", id="mongo.explain.refresh")]

    def __init__(self, entry, where: str, database: str, collection: str,
                 query: FindQuery | None = None, *, pipeline: list[dict] | None = None) -> None:
        super().__init__(entry, where, database, collection)
        self.find_query = query or FindQuery()
        self.pipeline = pipeline
        self.report: explain.ExplainReport | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Breadcrumb(self.crumb)
        yield Static(self._what(), id="what", classes="caption", markup=False)
        with VerticalScroll(id="explain-body"):
            yield Static("", id="summary")
            yield Static("", id="plan")
        yield StatusLine()
        yield StudioFooter()

    def _what(self) -> str:
        if self.pipeline is not None:
            stages = ", ".join(next(iter(stage), "?") for stage in self.pipeline)
            return f"aggregate [{stages}]"
        parts = [f"find {compact(self.find_query.filter, 70)}"]
        if self.find_query.sort:
            parts.append(f"sort {compact(self.find_query.sort, 40)}")
        if self.find_query.projection:
            parts.append(f"projection {compact(self.find_query.projection, 40)}")
        if self.find_query.skip:
            parts.append(f"skip {self.find_query.skip}")
        if self.find_query.limit:
            parts.append(f"limit {self.find_query.limit}")
        return " · ".join(parts)

    def on_mount(self) -> None:
        self.query_one("#explain-body").focus()
        self.load()

    def action_back(self) -> None:
        if self.running("mongo-explain"):
            self.workers.cancel_group(self, "mongo-explain")  # esc stops it on the server
            self.say("Explain stopped.")
            return
        self.dismiss(None)

    def action_refresh(self) -> None:
        self.load()

    @work(group="mongo-explain", exclusive=True, exit_on_error=False, description="explain")
    async def load(self) -> None:
        self.say("Running explain (executionStats runs the query; esc stops it)…")
        try:
            if self.pipeline is not None:
                report = await explain.explain_aggregate(self.scope, self.pipeline)
            else:
                report = await explain.explain_find(self.scope, self.find_query)
        except StudioError as error:
            self.show_error(error)
            return
        self.show(report)

    def show(self, report: explain.ExplainReport) -> None:
        self.report = report
        self.query_one("#summary", Static).update(summary(report))
        self.query_one("#plan", Static).update(plan_tree(report))
        self.say(report.verdict)
