"""What a MongoDB server says about itself: its topology (standalone, replica set, mongos, from
`hello`), `serverStatus` vitals (operations per second from the counters, connections, memory),
the operations running (`$currentOp`, or the `currentOp` command where that is all the server
lists), `killOp`, and the replica set members (`replSetGetStatus`)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from studio_tui.services.errors import ServerError, StudioError, ValidationError
from studio_tui.services.mongo.scope import MongoScope

OPCOUNTERS = ("insert", "query", "update", "delete", "getmore", "command")
# Answers meaning "this server or this user cannot do that": Unauthorized, CommandNotFound,
# IllegalOperation, NoReplicationEnabled, NotYetInitialized, CommandNotSupported.
_NOT_THERE = {13, 20, 59, 76, 94, 115}


@dataclass(frozen=True, slots=True)
class Topology:
    """``kind``: "standalone", "replica set" or "mongos"."""

    kind: str
    set_name: str = ""
    me: str = ""
    primary: str = ""
    version: str = ""
    session_timeout_minutes: int | None = None
    hosts: tuple[str, ...] = ()

    @property
    def supports_transactions(self) -> bool:
        """Multi-document transactions need a replica set or mongos, and sessions."""
        return self.kind != "standalone" and self.session_timeout_minutes is not None

    @property
    def label(self) -> str:
        if self.kind == "replica set":
            return f"replica set {self.set_name}"
        return self.kind


@dataclass(frozen=True, slots=True)
class Vitals:
    """One `serverStatus` sample. ``counters`` are the cumulative opcounters."""

    at: float
    counters: dict[str, int]
    connections_current: int
    connections_available: int
    resident_mb: int | None
    virtual_mb: int | None
    uptime_seconds: int
    version: str

    def rates(self, earlier: "Vitals | None") -> dict[str, float]:
        """Each opcounter per second since ``earlier`` (empty on the first sample)."""
        if earlier is None or self.at <= earlier.at:
            return {}
        seconds = self.at - earlier.at
        return {name: max(0.0, (self.counters[name] - earlier.counters.get(name, 0)) / seconds)
                for name in self.counters}

    def ops_per_second(self, earlier: "Vitals | None") -> float:
        """All operations per second since ``earlier`` (0 on the first sample)."""
        if earlier is None or self.at <= earlier.at:
            return 0.0
        done = sum(self.counters.values()) - sum(earlier.counters.values())
        return max(0.0, done / (self.at - earlier.at))


@dataclass(frozen=True, slots=True)
class RunningOp:
    opid: Any
    op: str
    namespace: str
    seconds: int
    client: str
    description: str
    command: str  # the command's name and a short digest of it
    killable: bool


@dataclass(frozen=True, slots=True)
class CurrentOps:
    ops: list[RunningOp]
    source: str  # "$currentOp" or "currentOp"
    note: str = ""  # what the server did not support, in words


@dataclass(frozen=True, slots=True)
class Member:
    name: str
    state: str
    health: str
    is_self: bool
    lag_seconds: int | None  # behind the primary; None for the primary or when unknown


@dataclass(frozen=True, slots=True)
class Members:
    members: list[Member] = field(default_factory=list)
    note: str = ""


async def topology(scope: MongoScope) -> Topology:
    async def read(client) -> tuple[dict, str]:
        hello = await client.admin.command("hello")
        try:
            version = str((await client.admin.command("buildInfo")).get("version", ""))
        except Exception:  # noqa: BLE001 - some managed servers refuse buildInfo
            version = ""
        return hello, version

    hello, version = await scope.run("hello", read)
    timeout = hello.get("logicalSessionTimeoutMinutes")
    common = dict(me=str(hello.get("me", "")), version=version,
                  session_timeout_minutes=int(timeout) if timeout is not None else None)
    if hello.get("msg") == "isdbgrid":
        return Topology("mongos", **common)
    if hello.get("setName"):
        return Topology("replica set", set_name=str(hello["setName"]),
                        primary=str(hello.get("primary", "")),
                        hosts=tuple(str(h) for h in hello.get("hosts", ())), **common)
    return Topology("standalone", **common)


async def vitals(scope: MongoScope) -> Vitals:
    status = await scope.run("serverStatus", lambda client: client.admin.command(
        "serverStatus", repl=0, metrics=0, locks=0, wiredTiger=0, tcmalloc=0))
    counters = status.get("opcounters") or {}
    connections = status.get("connections") or {}
    memory = status.get("mem") or {}

    def number(value: Any) -> int | None:
        return None if value is None else int(value)

    return Vitals(
        at=time.monotonic(),
        counters={name: int(counters.get(name, 0)) for name in OPCOUNTERS},
        connections_current=int(connections.get("current", 0)),
        connections_available=int(connections.get("available", 0)),
        resident_mb=number(memory.get("resident")), virtual_mb=number(memory.get("virtual")),
        uptime_seconds=int(status.get("uptime", 0)), version=str(status.get("version", "")))


def _digest(command: Any) -> str:
    if not isinstance(command, dict) or not command:
        return ""
    name = next(iter(command))
    target = command[name]
    shown = [f"{name} {target}" if isinstance(target, str) else str(name)]
    for key in ("filter", "pipeline", "q", "query"):
        if key in command:
            shown.append(f"{key}={_short(command[key])}")
    return " ".join(shown)


def _short(value: Any, limit: int = 80) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _running_op(entry: dict) -> RunningOp:
    return RunningOp(
        opid=entry.get("opid"), op=str(entry.get("op", "")), namespace=str(entry.get("ns", "")),
        seconds=int(entry.get("secs_running", 0) or 0),
        client=str(entry.get("client") or entry.get("client_s") or ""),
        description=str(entry.get("desc", "")), command=_digest(entry.get("command")),
        killable=entry.get("opid") is not None)


def _own(entry: dict) -> bool:
    """The listing itself, which would otherwise always head the list."""
    command = entry.get("command") or {}
    if "currentOp" in command:
        return True
    pipeline = command.get("pipeline") if isinstance(command, dict) else None
    return bool(pipeline) and isinstance(pipeline, list) and isinstance(pipeline[0], dict) \
        and "$currentOp" in pipeline[0]


async def current_ops(scope: MongoScope, *, include_idle: bool = False) -> CurrentOps:
    """The operations running on the server, longest first. ``$currentOp`` (all users) is the
    way on mongod, mongos and Atlas; a server whose ``$currentOp`` lists no operation ids (a
    partial implementation), or refuses it, is asked with the older ``currentOp`` command."""
    from pymongo.errors import OperationFailure

    async def with_stage(client) -> list[dict]:
        cursor = await client.admin.aggregate(
            [{"$currentOp": {"allUsers": True, "idleConnections": include_idle}}])
        return await cursor.to_list(length=1000)

    async def with_command(client) -> list[dict]:
        reply = await client.admin.command("currentOp", {"$all": include_idle})
        return list(reply.get("inprog", ()))[:1000]

    async def read(client) -> tuple[list[dict], str, str]:
        note = ""
        try:
            entries = await with_stage(client)
            if any("opid" in e for e in entries) or not entries:
                return entries, "$currentOp", note
            note = "This server's $currentOp lists no operation ids; listed with currentOp."
        except OperationFailure as exc:
            if exc.code not in _NOT_THERE and exc.code != 40324:  # 40324: unknown stage
                raise
            note = f"$currentOp is not available here ({exc.details.get('errmsg', exc) if exc.details else exc}); listed with currentOp."
        return await with_command(client), "currentOp", note

    entries, source, note = await scope.run("currentOp", read)
    ops = [_running_op(e) for e in entries
           if not _own(e) and (include_idle or e.get("active", True))]
    ops.sort(key=lambda op: -op.seconds)
    return CurrentOps(ops, source, note)


async def kill_op(scope: MongoScope, opid: Any) -> str:
    """killOp (a write: refused on read-only entries). The server's answer, in words."""
    if opid is None or isinstance(opid, bool):
        raise ValidationError("That operation has no operation id, so it cannot be killed.")
    reply = await scope.run(f"killOp {opid}", lambda client: client.admin.command(
        "killOp", op=opid), write=True)
    return str(reply.get("info", "killOp sent"))


async def members(scope: MongoScope) -> Members:
    """The replica set's members and their states; on a standalone server or mongos, none and
    a note saying why."""
    from pymongo.errors import OperationFailure

    async def read(client) -> dict | str:
        try:
            return await client.admin.command("replSetGetStatus")
        except OperationFailure as exc:
            if exc.code in _NOT_THERE:
                return str((exc.details or {}).get("errmsg", exc))
            raise

    try:
        reply = await scope.run("replSetGetStatus", read)
    except StudioError as error:
        raise ServerError(f"replSetGetStatus failed: {error.detail}") from None
    if isinstance(reply, str):
        return Members([], f"No replica set status: {reply}.")
    raw = list(reply.get("members", ()))
    primary_at = next((m.get("optimeDate") for m in raw if m.get("stateStr") == "PRIMARY"), None)
    found = []
    for member in raw:
        optime = member.get("optimeDate")
        lag = None
        if primary_at is not None and optime is not None and member.get("stateStr") != "PRIMARY":
            lag = max(0, int((primary_at - optime).total_seconds()))
        found.append(Member(str(member.get("name", "")), str(member.get("stateStr", "?")),
                            "up" if member.get("health", 1) else "down",
                            bool(member.get("self")), lag))
    return Members(found, "" if found else "The replica set lists no members.")
