"""`explain` (executionStats) of a find or an aggregation, read into a plan tree anyone can
follow: each stage (COLLSCAN, IXSCAN, FETCH, SORT…) with the index it used and what it
examined, the totals (keys and documents examined against documents returned, time), and the
costly stage marked. Reads every shape servers send: classic `queryPlanner.winningPlan`, the
slot-based engine's `winningPlan.queryPlan`, aggregations' `stages`, and sharded `shards`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from studio_tui.services.errors import ValidationError
from studio_tui.services.mongo.scope import MongoScope

# Keys under which a plan stage holds the stages feeding it.
_CHILD_KEYS = ("inputStage", "outerStage", "innerStage", "thenStage", "elseStage")
_CHILDREN_KEYS = ("inputStages",)


@dataclass(slots=True)
class PlanNode:
    stage: str
    detail: str = ""  # index and direction, sort pattern, filter…
    index: str = ""
    returned: int | None = None
    keys_examined: int | None = None
    docs_examined: int | None = None
    millis: int | None = None  # executionTimeMillisEstimate, including the stages below
    children: list["PlanNode"] = field(default_factory=list)
    costly: bool = False

    def walk(self, depth: int = 0) -> Iterator[tuple[int, "PlanNode"]]:
        yield depth, self
        for child in self.children:
            yield from child.walk(depth + 1)

    @property
    def own_millis(self) -> int | None:
        if self.millis is None:
            return None
        below = sum(child.millis or 0 for child in self.children)
        return max(0, self.millis - below)


@dataclass(slots=True)
class ExplainReport:
    kind: str  # "find" or "aggregate"
    root: PlanNode | None
    returned: int | None = None
    keys_examined: int | None = None
    docs_examined: int | None = None
    millis: int | None = None
    indexes: list[str] = field(default_factory=list)
    engine: str = "classic"  # or "sbe"
    notes: list[str] = field(default_factory=list)

    @property
    def wasteful(self) -> bool:
        """More was read than returned: a better index would help."""
        if self.collection_scan:
            return not (self.docs_examined is not None and self.returned is not None
                        and self.docs_examined <= self.returned)
        return bool(self.docs_examined and self.returned is not None
                    and self.docs_examined > 2 * max(1, self.returned))

    @property
    def collection_scan(self) -> bool:
        return self.root is not None and any(n.stage == "COLLSCAN" for _, n in self.root.walk())

    @property
    def verdict(self) -> str:
        """One line on how well the query used indexes."""
        if self.root is None:
            return "No plan in the server's answer."
        examined = self.docs_examined
        returned = self.returned
        if self.collection_scan:
            if examined is not None and returned is not None and examined <= returned:
                return (f"Collection scan, and every document examined ({examined:,}) was "
                        "returned: an index would not save reads here.")
            where = f" ({examined:,} documents examined for {returned:,} returned)" \
                if examined is not None and returned is not None else ""
            return f"Collection scan: no index is used{where}."
        if examined is not None and returned is not None and returned and examined > 2 * returned:
            return (f"Index {', '.join(self.indexes) or '?'} used, but {examined:,} documents "
                    f"were examined for {returned:,} returned: the index is not selective.")
        if self.indexes:
            return f"Index {', '.join(self.indexes)} used."
        return "No collection scan."


def _number(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _short(value: Any, limit: int = 60) -> str:
    from bson import json_util

    text = json_util.dumps(value, json_options=json_util.RELAXED_JSON_OPTIONS) \
        if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _detail(stage: dict) -> tuple[str, str]:
    index = str(stage.get("indexName", "")) if stage.get("indexName") else ""
    parts = []
    if index:
        pattern = stage.get("keyPattern")
        parts.append(f"{index} {_short(pattern, 40)}" if pattern else index)
        if stage.get("direction") and stage["direction"] != "forward":
            parts.append(str(stage["direction"]))
        if stage.get("isMultiKey"):
            parts.append("multikey")
    if "sortPattern" in stage:
        parts.append(f"by {_short(stage['sortPattern'], 40)}")
        if stage.get("usedDisk"):
            parts.append("spilled to disk")
    if "filter" in stage:
        parts.append(f"filter {_short(stage['filter'], 50)}")
    if stage.get("shardName"):
        parts.append(f"shard {stage['shardName']}")
    if "limitAmount" in stage:
        parts.append(f"limit {stage['limitAmount']}")
    if "skipAmount" in stage:
        parts.append(f"skip {stage['skipAmount']}")
    return index, " · ".join(parts)


def _node(stage: dict, figures: dict | None) -> PlanNode:
    """A plan stage (from the winning plan: names and details) with the numbers of the same
    stage in the execution stages. Where the two trees differ (a server that leaves a stage out
    of one of them), the numbers are handed down until a stage of the same name takes them."""
    matched = isinstance(figures, dict) and figures.get("stage") == stage.get("stage")
    numbers = figures if matched else stage
    index, detail = _detail(stage)
    node = PlanNode(
        stage=str(stage.get("stage", "?")), detail=detail, index=index,
        returned=_number(numbers.get("nReturned")),
        keys_examined=_number(numbers.get("keysExamined")),
        docs_examined=_number(numbers.get("docsExamined")),
        millis=_number(numbers.get("executionTimeMillisEstimate")))

    def below(key: str) -> Any:
        if matched:
            return figures.get(key)
        return figures  # not this stage's: maybe one further down

    for key in _CHILD_KEYS:
        if isinstance(stage.get(key), dict):
            node.children.append(_node(stage[key], below(key)))
    for key in _CHILDREN_KEYS:
        given = below(key) if matched else None
        given = given if isinstance(given, list) else []
        for position, child in enumerate(stage.get(key) or ()):
            if isinstance(child, dict):
                node.children.append(_node(child, given[position] if position < len(given) else None))
    # A sharded plan: one subtree per shard.
    shards = stage.get("shards")
    if isinstance(shards, list):
        executed_shards = (figures.get("shards") if matched else None) or []
        for position, shard in enumerate(shards):
            plan = shard.get("winningPlan") or {}
            plan = plan.get("queryPlan", plan)
            executed = executed_shards[position].get("executionStages") \
                if position < len(executed_shards) else None
            child = _node(plan, executed) if plan else PlanNode("SHARD")
            child.detail = " · ".join(p for p in (f"shard {shard.get('shardName', '?')}",
                                                    child.detail) if p)
            node.children.append(child)
    return node


def _winning(planner: dict) -> tuple[dict, str]:
    plan = planner.get("winningPlan") or {}
    if isinstance(plan.get("queryPlan"), dict):  # the slot-based engine (MongoDB 6.0+)
        return plan["queryPlan"], "sbe"
    return plan, "classic"


def _mark_costly(root: PlanNode) -> None:
    """The stage most of the work happened in: the most time of its own when the server gave
    times, else the most keys and documents examined, else a collection scan or a blocking
    sort."""
    nodes = [node for _, node in root.walk()]
    timed = [n for n in nodes if n.own_millis]
    if timed:
        max(timed, key=lambda n: n.own_millis or 0).costly = True
        return
    examined = [n for n in nodes if (n.keys_examined or 0) + (n.docs_examined or 0)]
    if examined:
        max(examined, key=lambda n: (n.keys_examined or 0) + (n.docs_examined or 0)).costly = True
        return
    for stage in ("COLLSCAN", "SORT", "FETCH"):
        found = next((n for n in nodes if n.stage == stage), None)
        if found is not None:
            found.costly = True
            return


def _from_planner(reply: dict, report: ExplainReport) -> PlanNode | None:
    planner = reply.get("queryPlanner")
    stats = reply.get("executionStats") or {}
    if not isinstance(planner, dict):
        return None
    plan, engine = _winning(planner)
    report.engine = engine
    # Numbers per stage only where execution stages have the plan's shape (classic engine).
    executed = stats.get("executionStages") if engine == "classic" else None
    if engine == "sbe":
        report.notes.append("Slot-based engine: figures are for the whole query, not per stage.")
    root = _node(plan, executed) if plan else None
    _totals(stats, report)
    return root


def _totals(stats: dict, report: ExplainReport) -> None:
    for name, key in (("returned", "nReturned"), ("keys_examined", "totalKeysExamined"),
                      ("docs_examined", "totalDocsExamined"), ("millis", "executionTimeMillis")):
        value = _number(stats.get(key))
        if value is not None:
            setattr(report, name, (getattr(report, name) or 0) + value)


def _pipeline_stages(stages: list, report: ExplainReport) -> PlanNode | None:
    """An aggregation's ``stages``: the first is the query ($cursor) with its plan; each
    following stage sits on top of the previous one."""
    root: PlanNode | None = None
    for stage in stages:
        if not isinstance(stage, dict) or not stage:
            continue
        name = next((k for k in stage if k.startswith("$")), "?")
        body = stage.get(name)
        if name == "$cursor" and isinstance(body, dict):
            node = _from_planner(body, report) or PlanNode("$cursor")
        else:
            node = PlanNode(name, detail=_short(body, 60),
                            returned=_number(stage.get("nReturned")),
                            millis=_number(stage.get("executionTimeMillisEstimate")))
            if root is not None:
                node.children.append(root)
        root = node
    return root


def read_explain(reply: dict, kind: str) -> ExplainReport:
    """The report for an explain answer of any known shape."""
    report = ExplainReport(kind=kind, root=None)
    if isinstance(reply.get("stages"), list):
        report.root = _pipeline_stages(reply["stages"], report)
        if report.returned is None and report.root is not None:
            report.returned = report.root.returned
    elif isinstance(reply.get("shards"), dict):
        shards = []
        for name, answer in reply["shards"].items():
            part = ExplainReport(kind=kind, root=None)
            node = _pipeline_stages(answer["stages"], part) if isinstance(
                answer.get("stages"), list) else _from_planner(answer, part)
            node = node or PlanNode("?")
            node.detail = " · ".join(p for p in (f"shard {name}", node.detail) if p)
            shards.append(node)
            for figure in ("returned", "keys_examined", "docs_examined"):
                value = getattr(part, figure)
                if value is not None:
                    setattr(report, figure, (getattr(report, figure) or 0) + value)
            report.millis = max(report.millis or 0, part.millis or 0) if part.millis else report.millis
            report.engine, report.notes = part.engine, part.notes
        merger = reply.get("mergeType") or "merge"
        report.root = PlanNode(f"SHARDS ({merger})", children=shards)
    else:
        report.root = _from_planner(reply, report)
    if report.root is None:
        report.notes.append("The server's answer has no plan this screen can read.")
        return report
    report.indexes = sorted({n.index for _, n in report.root.walk() if n.index})
    _mark_costly(report.root)
    return report


def _find_command(scope: MongoScope, query: Any) -> dict:
    command: dict[str, Any] = {"find": scope.collection, "filter": getattr(query, "filter", None) or {}}
    for name in ("projection", "sort"):
        value = getattr(query, name, None)
        if value:
            command[name] = value
    for name in ("skip", "limit"):
        value = getattr(query, name, 0)
        if value:
            command[name] = int(value)
    return command


async def explain_find(scope: MongoScope, query: Any = None) -> ExplainReport:
    """Runs the query to count what it examines (executionStats): user-started long work."""
    command = _find_command(scope, query)
    reply = await scope.run(f"explain find {scope.namespace}", lambda client: scope.db(
        client).command("explain", command, verbosity="executionStats"), long=True)
    return read_explain(reply, "find")


async def explain_aggregate(scope: MongoScope, pipeline: list[dict]) -> ExplainReport:
    """A pipeline that writes ($out, $merge) is explained without being run (queryPlanner)."""
    if not isinstance(pipeline, list):
        raise ValidationError("A pipeline is a list of stages.")
    writes = any(isinstance(s, dict) and ("$out" in s or "$merge" in s) for s in pipeline)
    command = {"aggregate": scope.collection, "pipeline": pipeline, "cursor": {}}
    reply = await scope.run(f"explain aggregate {scope.namespace}", lambda client: scope.db(
        client).command("explain", command,
                        verbosity="queryPlanner" if writes else "executionStats"), long=True)
    report = read_explain(reply, "aggregate")
    if writes:
        report.notes.append("The pipeline writes ($out/$merge): shown as planned, not run.")
    return report


def plan_text(report: ExplainReport) -> str:
    """The tree as plain text (for copying, and for tests)."""
    lines = []
    for depth, node in report.root.walk() if report.root else ():
        figures = [f"{label} {value:,}" for label, value in (
            ("returned", node.returned), ("keys", node.keys_examined),
            ("docs", node.docs_examined)) if value is not None]
        lines.append("  " * depth + node.stage + (f" [{node.detail}]" if node.detail else "")
                     + (f" {' '.join(figures)}" if figures else "") + (" ◀ costly" if node.costly else ""))
    return "\n".join(lines)


__all__ = ["ExplainReport", "PlanNode", "explain_aggregate", "explain_find", "plan_text",
           "read_explain"]
