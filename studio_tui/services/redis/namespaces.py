"""Keys grouped by prefix (`user:42:name` under `user` › `user:42`), built page by page as a scan
goes. Only prefixes are nodes; each keeps a bounded sample of its own keys, so a million keys
under one prefix cost one node. Each node also lists at most ``children`` namespaces: names such
as `user:<id>:profile` make one namespace per key, and a node for each (about 390 bytes) made a
million keys cost some 390 MB. Keys under the namespaces past that many are counted, not listed,
so every count stays exact and a node's parts still add up to it."""

from __future__ import annotations

from dataclasses import dataclass, field

SAMPLE_PER_NODE = 200
CHILDREN_PER_NODE = 1000


@dataclass(slots=True)
class NamespaceNode:
    name: bytes  # the full prefix, without a trailing delimiter
    count: int = 0  # keys at or below this prefix
    children: dict[bytes, "NamespaceNode"] = field(default_factory=dict)
    keys: list[bytes] = field(default_factory=list)  # a sample of the keys directly here
    more_keys: int = 0  # keys directly here that the sample left out
    unlisted: int = 0  # keys in deeper namespaces past the first ``children`` ones

    @property
    def parts(self) -> int:
        """What this node's count is made of: its listed namespaces, its own keys (sampled or
        not) and the keys in namespaces it does not list."""
        return (sum(child.count for child in self.children.values()) + len(self.keys)
                + self.more_keys + self.unlisted)


class NamespaceIndex:
    def __init__(self, delimiter: bytes = b":", *, sample: int = SAMPLE_PER_NODE,
                 children: int = CHILDREN_PER_NODE) -> None:
        if not delimiter:
            raise ValueError("the delimiter cannot be empty")
        self.delimiter = delimiter
        self.sample = sample
        self.max_children = children
        self.root = NamespaceNode(b"")

    def add(self, keys: list[bytes]) -> None:
        delimiter, sample, max_children = self.delimiter, self.sample, self.max_children
        for key in keys:
            node = self.root
            node.count += 1
            parts = key.split(delimiter)
            # Every part but the last names a namespace; the last is the key's own name.
            for depth in range(len(parts) - 1):
                prefix = delimiter.join(parts[: depth + 1])
                child = node.children.get(prefix)
                if child is None:
                    if len(node.children) >= max_children:
                        node.unlisted += 1
                        break
                    child = node.children[prefix] = NamespaceNode(prefix)
                child.count += 1
                node = child
            else:
                if len(node.keys) < sample:
                    node.keys.append(key)
                else:
                    node.more_keys += 1

    def node(self, prefix: bytes) -> NamespaceNode | None:
        if not prefix:
            return self.root
        node = self.root
        parts = prefix.split(self.delimiter)
        for depth in range(len(parts)):
            node = node.children.get(self.delimiter.join(parts[: depth + 1]))
            if node is None:
                return None
        return node

    def top(self, limit: int = 50) -> list[NamespaceNode]:
        """The biggest namespaces first."""
        return sorted(self.root.children.values(), key=lambda n: (-n.count, n.name))[:limit]
