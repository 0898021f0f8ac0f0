"""An EXPLAIN plan as a tree: each node with its cost (and, analyzed, its time and rows), the
node that costs the most on its own highlighted."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from studio_tui.services.postgres.data_models import Plan, PlanNode


def node_label(node: PlanNode, plan: Plan) -> Text:
    costliest = node is plan.costliest
    label = Text()
    label.append(node.node_type, style="bold red" if costliest else "bold")
    if node.detail:
        label.append(f" {node.detail}")
    if plan.analyzed and node.actual_ms is not None:
        label.append(f"  {node.self_ms:.2f} ms self, {node.actual_ms:.2f} ms total, "
                     f"{node.actual_rows:,} rows × {node.loops} loop(s) "
                     f"(planned {node.plan_rows:,})", style="dim")
    else:
        label.append(f"  cost {node.startup_cost:.2f}..{node.total_cost:.2f} "
                     f"(self {node.self_cost:.2f}), {node.plan_rows:,} rows", style="dim")
    if costliest:
        label.append("  ◀ costliest", style="bold red")
    return label


class PlanTree(Tree[PlanNode]):
    DEFAULT_CSS = """
    PlanTree { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__("plan", id=id)
        self.show_root = True

    def show_plan(self, plan: Plan) -> None:
        self.clear()
        timing = ""
        if plan.analyzed and plan.execution_ms is not None:
            timing = f" · planning {plan.planning_ms:.2f} ms, execution {plan.execution_ms:.2f} ms"
        self.root.set_label(Text(f"{'EXPLAIN ANALYZE' if plan.analyzed else 'EXPLAIN'}{timing}",
                                 style="bold"))
        self._add(self.root, plan.root, plan)
        self.root.expand_all()

    def _add(self, parent: TreeNode[PlanNode], node: PlanNode, plan: Plan) -> None:
        branch = parent.add(node_label(node, plan), data=node, allow_expand=bool(node.children))
        for child in node.children:
            self._add(branch, child, plan)
