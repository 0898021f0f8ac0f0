"""Databases and their collections, with sizes from the stats commands: collections are listed
when a database is opened, and their stats filled in as they arrive."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from studio_tui.services.mongo.models import (
    CollectionInfo,
    CollectionStats,
    DatabaseInfo,
    DatabaseStats,
)
from studio_tui.widgets.sizes import format_bytes

Node = DatabaseInfo | CollectionInfo


def describe_collection(info: CollectionInfo, stats: CollectionStats | None) -> str:
    """One line about a collection, for the status line."""
    kind = {"view": f"view on {info.view_on}", "timeseries": "time-series collection"}.get(
        info.type, "capped collection" if info.capped else "collection")
    if stats is None:
        return f"{info.database}.{info.name}: {kind}"
    if stats.documents is None:
        return f"{info.database}.{info.name}: {kind}{' · ' + stats.note if stats.note else ''}"
    return (f"{info.database}.{info.name}: {kind} · {stats.documents:,} documents · "
            f"{format_bytes(stats.size)} data, {format_bytes(stats.average_size)} average · "
            f"{format_bytes(stats.storage_size)} on disk · {stats.indexes} index(es), "
            f"{format_bytes(stats.index_size)}")


def describe_database(name: str, stats: DatabaseStats) -> str:
    views = f", {stats.views} view(s)" if stats.views else ""
    return (f"{name}: {stats.collections} collection(s){views} · {format_count(stats.documents)} "
            f"documents · {format_bytes(stats.data_size)} data · {format_bytes(stats.storage_size)} "
            f"on disk · {stats.indexes} index(es), {format_bytes(stats.index_size)}")


def format_count(count: int | None) -> str:
    if count is None:
        return "?"
    for unit, size in (("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if count >= size:
            return f"{count / size:.1f}{unit}"
    return str(count)


class CollectionTree(Tree[Node]):
    DEFAULT_CSS = """
    CollectionTree { width: 1fr; }
    """

    @dataclass
    class DatabaseOpened(Message, bubble=True):
        database: str

    @dataclass
    class CollectionChosen(Message, bubble=True):
        info: CollectionInfo

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("databases", id=id)
        self.show_root = False
        self.guide_depth = 2
        self._databases: dict[str, TreeNode[Node]] = {}
        self._collections: dict[tuple[str, str], TreeNode[Node]] = {}
        self.stats: dict[tuple[str, str], CollectionStats] = {}

    def set_databases(self, databases: list[DatabaseInfo]) -> None:
        self.clear()
        self._databases, self._collections = {}, {}
        for info in databases:
            node = self.root.add(self._database_label(info), data=info, allow_expand=True)
            self._databases[info.name] = node

    def _database_label(self, info: DatabaseInfo) -> Text:
        size = "" if info.size_on_disk is None else f" {format_bytes(info.size_on_disk)}"
        return Text.assemble((info.name, "bold"), (size, "dim"))

    def set_collections(self, database: str, collections: list[CollectionInfo]) -> None:
        node = self._databases.get(database)
        if node is None:
            return
        node.remove_children()
        for info in collections:
            self._collections[(database, info.name)] = node.add_leaf(
                self._collection_label(info, None), data=info)
        if not collections:
            node.add_leaf(Text("(no collections)", "dim"))
        node.expand()

    def _collection_label(self, info: CollectionInfo, stats: CollectionStats | None) -> Text:
        marker = {"view": " view", "timeseries": " time-series"}.get(info.type, "")
        if info.capped:
            marker += " capped"
        figures = ""
        if stats is not None and stats.documents is not None:
            figures = f" {format_count(stats.documents)} · {format_bytes(stats.size)}"
        return Text.assemble(info.name, (marker, "italic cyan"), (figures, "dim"))

    def set_stats(self, database: str, collection: str, stats: CollectionStats) -> None:
        self.stats[(database, collection)] = stats
        node = self._collections.get((database, collection))
        if node is not None and isinstance(node.data, CollectionInfo):
            node.set_label(self._collection_label(node.data, stats))
            if node is self.cursor_node:  # what the status line says of it is complete now
                self.post_message(self.Highlighted(node.data))

    def select_collection(self, database: str, collection: str) -> None:
        node = self._collections.get((database, collection))
        if node is not None:
            # Its line is known once the tree has laid out the new nodes.
            self.call_after_refresh(self.move_cursor, node)

    @property
    def highlighted(self) -> Node | None:
        node = self.cursor_node
        return None if node is None else node.data

    @dataclass
    class Highlighted(Message, bubble=True):
        node: Node | None

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, CollectionTree.Highlighted)

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[Node]) -> None:
        event.stop()
        self.post_message(self.Highlighted(event.node.data))

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[Node]) -> None:
        event.stop()
        if isinstance(event.node.data, DatabaseInfo) and not event.node.children:
            self.post_message(self.DatabaseOpened(event.node.data.name))

    def on_tree_node_selected(self, event: Tree.NodeSelected[Node]) -> None:
        event.stop()
        if isinstance(event.node.data, CollectionInfo):
            self.post_message(self.CollectionChosen(event.node.data))
