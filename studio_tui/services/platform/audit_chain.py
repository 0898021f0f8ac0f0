"""The audit log's hash chain, shared by every backend.

Each row stores ``hash = sha256(prev_hash + canonical JSON of its fields)`` and the hash of the row
before it. Editing a row breaks its own hash; deleting one breaks the next row's ``prev_hash``;
deleting the newest rows is caught by the head (last id and hash) kept in the ``meta`` table in
the same transaction as each append.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from studio_tui.services.platform.models import AuditEntry, AuditVerification

GENESIS = ""  # the prev_hash of the first row
HEAD_KEY = "audit_head"  # meta key: {"id": last id, "hash": its hash}

# The fields the hash covers: everything but the hashes themselves.
HASHED_FIELDS = ("id", "at", "user_id", "user_name", "org", "project", "database", "action",
                 "target", "outcome", "duration_ms", "operation_id", "origin", "detail")


def audit_now() -> str:
    """Audit times keep milliseconds: many rows share a second."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def canonical(entry: AuditEntry) -> str:
    return json.dumps({name: getattr(entry, name) for name in HASHED_FIELDS}, sort_keys=True,
                      separators=(",", ":"), ensure_ascii=False)


def entry_hash(prev_hash: str, entry: AuditEntry) -> str:
    return hashlib.sha256((prev_hash + canonical(entry)).encode()).hexdigest()


def encode_head(entry_id: int, hash_: str) -> str:
    return json.dumps({"id": entry_id, "hash": hash_})


def decode_head(value: str | None) -> tuple[int, str]:
    if not value:
        return 0, GENESIS
    head = json.loads(value)
    return int(head["id"]), str(head["hash"])


async def verify_chain(entries: AsyncIterator[AuditEntry], head: str | None) -> AuditVerification:
    """Walk the rows in id order; stop at the first that does not fit."""
    checked = 0
    prev_id, prev_hash = 0, GENESIS
    head_id, head_hash = decode_head(head)
    async for entry in entries:
        if head is not None and entry.id > head_id:
            break  # appended after the head was read: checked next time
        checked += 1
        if entry.prev_hash != prev_hash:
            where = (f"after row {prev_id}" if prev_id else "at the start of the log")
            return AuditVerification(
                checked, entry.id,
                f"row {entry.id} does not follow the chain {where}: a row before it was "
                "deleted or its hash was rewritten")
        if entry_hash(entry.prev_hash, entry) != entry.hash:
            return AuditVerification(
                checked, entry.id, f"row {entry.id} does not match its hash: it was edited")
        prev_id, prev_hash = entry.id, entry.hash
    if (head_id, head_hash) != (prev_id, prev_hash):
        return AuditVerification(
            checked, head_id or prev_id,
            f"the log ends at row {prev_id} but its recorded head is row {head_id}: "
            "the newest rows were deleted or changed")
    return AuditVerification(checked)
