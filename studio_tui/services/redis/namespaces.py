"""Keys grouped by prefix (`user:42:name` under `user` › `42`), built page by page as a scan
goes. Only prefixes are nodes; each keeps a bounded sample of its own keys, so a million keys
under one prefix cost one node."""

from __future__ import annotations

from dataclasses import dataclass, field

SAMPLE_PER_NODE = 200


@dataclass(slots=True)
class NamespaceNode:
    name: bytes  # the full prefix, without a trailing delimiter
    count: int = 0  # keys at or below this prefix
    children: dict[bytes, "NamespaceNode"] = field(default_factory=dict)
    keys: list[bytes] = field(default_factory=list)  # a sample of the keys directly here
    more_keys: int = 0  # keys directly here that the sample left out


class NamespaceIndex:
    def __init__(self, delimiter: bytes = b":", *, sample: int = SAMPLE_PER_NODE) -> None:
        if not delimiter:
            raise ValueError("the delimiter cannot be empty")
        self.delimiter = delimiter
        self.sample = sample
        self.root = NamespaceNode(b"")

    def add(self, keys: list[bytes]) -> None:
        for key in keys:
            node = self.root
            node.count += 1
            parts = key.split(self.delimiter)
            # Every part but the last names a namespace; the last is the key's own name.
            for depth in range(len(parts) - 1):
                prefix = self.delimiter.join(parts[: depth + 1])
                child = node.children.get(prefix)
                if child is None:
                    child = node.children[prefix] = NamespaceNode(prefix)
                child.count += 1
                node = child
            if len(node.keys) < self.sample:
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
