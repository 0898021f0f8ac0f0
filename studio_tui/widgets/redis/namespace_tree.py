"""The namespace view of a Redis keyspace: prefixes with live key counts, built from the keys a
scan has found so far; deeper levels and key leaves are added only when a node is expanded."""

from __future__ import annotations

from dataclasses import dataclass
from rich.text import Text
from textual.message import Message
from textual.widgets import Tree

from studio_tui.services.redis.keys import display_key
from studio_tui.services.redis.namespaces import NamespaceIndex, NamespaceNode

FANOUT = 100  # namespaces shown per level, biggest first


class NamespaceTree(Tree[object]):
    """Node data is ("prefix", name) or ("key", key)."""

    @dataclass
    class KeyHighlighted(Message, bubble=True):
        """The cursor is on a key (not a namespace)."""

        key: bytes

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("keys", id=id)
        self.index = NamespaceIndex(b":")

    def reset(self, delimiter: bytes) -> None:
        self.index = NamespaceIndex(delimiter)
        self.root.remove_children()

    @property
    def highlighted_prefix(self) -> bytes | None:
        node = self.cursor_node
        data = node.data if node is not None else None
        return data[1] if isinstance(data, tuple) and data[0] == "prefix" else None

    def _label(self, node: NamespaceNode) -> Text:
        delimiter = self.index.delimiter
        name = display_key(node.name.rsplit(delimiter, 1)[-1])
        return Text.assemble(name + delimiter.decode(errors="replace"),
                             (f"  {node.count:,}", "dim"))

    def refresh_counts(self) -> None:
        """Top-level namespaces with live counts; deeper levels fill in when expanded."""
        shown = {child.data[1]: child for child in self.root.children
                 if isinstance(child.data, tuple)}
        for node in self.index.top(FANOUT):
            existing = shown.get(node.name)
            if existing is None:
                self.root.add(self._label(node), data=("prefix", node.name), allow_expand=True)
            else:
                existing.set_label(self._label(node))
        self.root.set_label(Text.assemble("keys", (f"  {self.index.root.count:,}", "dim")))

    def _on_tree_node_expanded(self, event: Tree.NodeExpanded) -> None:
        data = event.node.data
        if not (isinstance(data, tuple) and data[0] == "prefix"):
            if event.node is self.root:
                self._add_leaves(event.node, self.index.root)
            return
        found = self.index.node(data[1])
        event.node.remove_children()
        if found is None:
            return
        for child in sorted(found.children.values(), key=lambda n: (-n.count, n.name))[:FANOUT]:
            event.node.add(self._label(child), data=("prefix", child.name), allow_expand=True)
        self._add_leaves(event.node, found)

    def _add_leaves(self, parent, node: NamespaceNode) -> None:
        if any(child.data == ("key", key) for child in parent.children for key in node.keys[:1]):
            return
        for key in node.keys:
            parent.add_leaf(Text(display_key(key)), data=("key", key))
        if node.more_keys:
            parent.add_leaf(Text(f"… {node.more_keys:,} more (L on the namespace lists them)",
                                 style="dim"))

    def _on_tree_node_highlighted(self, event: Tree.NodeHighlighted) -> None:
        data = event.node.data
        if isinstance(data, tuple) and data[0] == "key":
            self.post_message(self.KeyHighlighted(data[1]))
