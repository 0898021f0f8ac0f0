"""The namespace view of a Redis keyspace: prefixes with live key counts, built from the keys a
scan has found so far; deeper levels and key leaves are added only when a node is expanded.
Until the scan has covered the keyspace a count is a floor, and says so: ≥1,200."""

from __future__ import annotations

from dataclasses import dataclass
from rich.text import Text
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

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
        self.complete = False  # whether the scan has covered the keyspace: counts are final

    def reset(self, delimiter: bytes) -> None:
        self.index = NamespaceIndex(delimiter)
        self.complete = False
        self.root.remove_children()

    def _count(self, count: int) -> tuple[str, str]:
        return (f"  {count:,}" if self.complete else f"  ≥{count:,}"), "dim"

    @property
    def highlighted_prefix(self) -> bytes | None:
        node = self.cursor_node
        data = node.data if node is not None else None
        return data[1] if isinstance(data, tuple) and data[0] == "prefix" else None

    def _label(self, node: NamespaceNode) -> Text:
        delimiter = self.index.delimiter
        name = display_key(node.name.rsplit(delimiter, 1)[-1])
        return Text.assemble(name + delimiter.decode(errors="replace"), self._count(node.count))

    def refresh_counts(self, *, complete: bool) -> None:
        """Top-level namespaces with live counts (and the root's own keys, once it is open), and
        the open namespaces below them; closed ones fill in when expanded. ``complete``: the
        scan has covered the keyspace, so the counts are final."""
        self.complete = complete
        self._fill(self.root, self.index.root)
        self.root.set_label(Text.assemble("keys", self._count(self.index.root.count)))
        opened = [child for child in self.root.children if child.is_expanded]
        while opened:
            parent = opened.pop()
            found = self.index.node(parent.data[1])
            if found is not None:
                self._fill(parent, found)
            opened.extend(child for child in parent.children if child.is_expanded)

    def _on_tree_node_expanded(self, event: Tree.NodeExpanded) -> None:
        data = event.node.data
        if event.node is self.root:
            self._fill(event.node, self.index.root)
        elif isinstance(data, tuple) and data[0] == "prefix":
            found = self.index.node(data[1])
            if found is not None:
                self._fill(event.node, found)

    def _fill(self, parent: TreeNode, node: NamespaceNode) -> None:
        """Bring ``parent`` up to date with ``node``, adding only what it does not show yet: keys
        found after it was first opened must appear too, or its parts would not add up."""
        shown = {child.data: child for child in parent.children if child.data is not None}
        for child in sorted(node.children.values(), key=lambda n: (-n.count, n.name))[:FANOUT]:
            existing = shown.get(("prefix", child.name))
            if existing is None:
                parent.add(self._label(child), data=("prefix", child.name), allow_expand=True,
                           before=self._summary(parent))
            else:
                existing.set_label(self._label(child))
        if parent is not self.root or parent.is_expanded:
            for key in node.keys:
                if ("key", key) not in shown:
                    parent.add_leaf(Text(display_key(key)), data=("key", key),
                                    before=self._summary(parent))
        summary = self._summary(parent)
        text = self._summary_text(node)
        if summary is not None:
            summary.set_label(text) if text else summary.remove()
        elif text and (parent is not self.root or parent.is_expanded):
            parent.add_leaf(text, data=None)

    @staticmethod
    def _summary(parent: TreeNode) -> TreeNode | None:
        """The dim last line of an open namespace: what it holds but does not list."""
        last = parent.children[-1] if parent.children else None
        return last if last is not None and last.data is None else None

    @staticmethod
    def _summary_text(node: NamespaceNode) -> Text | None:
        not_shown = node.unlisted + sum(sorted(
            (child.count for child in node.children.values()), reverse=True)[FANOUT:])
        parts = [f"{count:,} {what}" for count, what in (
            (node.more_keys, "more key(s) here"), (not_shown, "key(s) in other namespaces"))
            if count]
        if not parts:
            return None
        return Text(f"… {'; '.join(parts)} (L on the namespace lists them)", style="dim")

    def _on_tree_node_highlighted(self, event: Tree.NodeHighlighted) -> None:
        data = event.node.data
        if isinstance(data, tuple) and data[0] == "key":
            self.post_message(self.KeyHighlighted(data[1]))
