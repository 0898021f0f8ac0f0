"""The Redis console: commands one per line, several lines as one pipeline. Dangerous commands
need the user to type their name to confirm, and writes are refused on read-only entries — the
server itself says which commands write (COMMAND INFO), so nothing is guessed; a command it does
not know is sent anyway, and answered "unknown command" by the server, as in redis-cli."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any

from studio_tui.services.errors import ServerError, StudioError, ValidationError
from studio_tui.services.redis.service import RedisService, is_cluster

DANGEROUS = {"FLUSHALL", "FLUSHDB", "KEYS", "SHUTDOWN", "DEBUG", "SWAPDB", "MIGRATE", "MONITOR",
             "REPLICAOF", "SLAVEOF", "FAILOVER", "SAVE", "SYNC", "PSYNC"}
DANGEROUS_SUBCOMMANDS = {
    ("CONFIG", "SET"), ("CONFIG", "RESETSTAT"), ("CONFIG", "REWRITE"), ("SCRIPT", "FLUSH"),
    ("SCRIPT", "KILL"), ("FUNCTION", "FLUSH"), ("FUNCTION", "DELETE"), ("FUNCTION", "RESTORE"),
    ("CLUSTER", "RESET"), ("CLUSTER", "FAILOVER"), ("CLUSTER", "FORGET"), ("CLIENT", "KILL"),
    ("CLIENT", "PAUSE"), ("ACL", "DELUSER"), ("ACL", "SETUSER"), ("MODULE", "UNLOAD"),
    ("MODULE", "LOAD"),
}
CONTAINERS = {"CONFIG", "SCRIPT", "FUNCTION", "CLIENT", "CLUSTER", "ACL", "OBJECT", "MEMORY",
              "XINFO", "XGROUP", "COMMAND", "MODULE", "LATENCY", "SLOWLOG", "PUBSUB"}


class ConfirmationRequired(StudioError):
    code = "CONFIRMATION_REQUIRED"
    title = "Confirmation required"
    status = 428


@dataclass(frozen=True, slots=True)
class ConsoleLine:
    words: list[str]

    @property
    def name(self) -> str:
        return self.words[0].upper()

    @property
    def qualified(self) -> str:
        """``CONFIG|SET`` for a container command, as COMMAND INFO names it."""
        if self.name in CONTAINERS and len(self.words) > 1:
            return f"{self.name}|{self.words[1].upper()}"
        return self.name

    @property
    def command(self) -> list[str]:
        """The words as sent. COMMAND's subcommands are named in two words (``COMMAND INFO``),
        which redis-py hands back as the server sent them: its parser for COMMAND fails on the
        nil an unknown name gets."""
        if self.name == "COMMAND" and len(self.words) > 1:
            return [f"COMMAND {self.words[1].upper()}", *self.words[2:]]
        return self.words

    def sent(self, client: Any) -> list[Any]:
        """The words for the wire. INFO's name goes as bytes, which redis-py's reply parsers do
        not match: its reply comes back as the server's text, sections and all, rather than as
        one flat dict (see InfoReply). A cluster client routes by the name, so there INFO keeps
        redis-py's dict."""
        if self.name == "INFO" and not is_cluster(client):
            return [b"INFO", *self.words[1:]]
        return self.command

    def routing(self, client: Any, known: dict[str, set[str]]) -> dict[str, Any]:
        """A cluster client picks a node by key. COMMAND has none, and a command the server
        does not know has none it can tell: any node answers them."""
        if is_cluster(client) and (self.name == "COMMAND" or self.name not in known):
            return {"target_nodes": client.get_random_node()}
        return {}

    def writes(self, known: dict[str, set[str]]) -> bool:
        """Whether the server says this line writes (``known``: flags by name). A subcommand it
        does not list is judged by its command (servers before 7 list none); a command it does
        not know writes nothing, since the server refuses to run it."""
        flags = known.get(self.qualified, known.get(self.name, set()))
        return "write" in flags or "admin" in flags

    @property
    def dangerous(self) -> bool:
        sub = self.words[1].upper() if len(self.words) > 1 else ""
        return self.name in DANGEROUS or (self.name, sub) in DANGEROUS_SUBCOMMANDS


@dataclass(frozen=True, slots=True)
class InfoReply:
    """INFO as the server sections it: ("Server", (("redis_version", "8.2.3"), …)), …"""
    sections: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]

    @classmethod
    def parse(cls, text: str) -> "InfoReply":
        sections: list[tuple[str, list[tuple[str, str]]]] = []
        for line in text.splitlines():
            line = line.strip()
            if line.startswith("#"):
                sections.append((line.lstrip("# ").strip(), []))
            elif line:
                if not sections:
                    sections.append(("", []))
                name, _, value = line.partition(":")
                sections[-1][1].append((name, value))
        return cls(tuple((name, tuple(pairs)) for name, pairs in sections))


def parse_console(text: str) -> list[ConsoleLine]:
    lines = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        try:
            words = shlex.split(raw)
        except ValueError as exc:
            raise ValidationError(f"Line {number}: {exc}.",
                                  field_errors={"command": f"line {number}: {exc}"}) from None
        lines.append(ConsoleLine(words))
    if not lines:
        raise ValidationError("Type a command, e.g. GET user:1.",
                              field_errors={"command": "empty"})
    return lines


def confirmation_word(lines: list[ConsoleLine]) -> str | None:
    """What the user must type to run these lines, or None when nothing is dangerous."""
    dangerous = [line.name for line in lines if line.dangerous]
    return dangerous[0] if dangerous else None


async def run_console(service: RedisService, text: str, *,
                      confirmation: str | None = None) -> list[Any]:
    """Run the lines; one reply (or StudioError for that line) per line, in order."""
    lines = parse_console(text)
    needed = confirmation_word(lines)
    if needed is not None and (confirmation or "").strip().upper() != needed:
        names = ", ".join(sorted({line.name for line in lines if line.dangerous}))
        raise ConfirmationRequired(
            f"{names} can destroy data or block the server. Type {needed} to run it.",
            field_errors={"confirm": needed})
    known = await _command_flags(service, lines)
    write = needed is not None or any(line.writes(known) for line in lines)

    async def execute(client) -> list[Any]:
        if len(lines) == 1:
            line = lines[0]
            return [await client.execute_command(*line.sent(client),
                                                 **line.routing(client, known))]
        pipe = client.pipeline(transaction=False)
        for line in lines:
            pipe.execute_command(*line.sent(client))
        return await pipe.execute(raise_on_error=False)

    operation = lines[0].name if len(lines) == 1 else f"PIPELINE({len(lines)})"
    replies = await service.run(operation, execute, write=write, long=True)
    return [_reply(line, reply) for line, reply in zip(lines, replies, strict=False)]


def _reply(line: ConsoleLine, reply: Any) -> Any:
    # In a pipeline each line answers for itself: an error on one does not hide the others.
    if isinstance(reply, Exception):
        return ServerError(str(reply), database=None)
    if line.name == "INFO" and isinstance(reply, (bytes, str)):
        return InfoReply.parse(reply.decode("utf-8", "replace") if isinstance(reply, bytes)
                               else reply)
    return reply


async def _command_flags(service: RedisService, lines: list[ConsoleLine]) -> dict[str, set[str]]:
    """The flags of the lines' commands (and subcommands), by name, for those the server knows."""
    names = sorted({line.qualified for line in lines} | {line.name for line in lines})
    asked = ConsoleLine(["COMMAND", "INFO", *names])
    # As the server sends it (see ConsoleLine.command): an entry per name, nil for an unknown one.
    infos = await service.run("COMMAND INFO", lambda client: client.execute_command(
        *asked.command, **asked.routing(client, {})))
    return {name: _flags(info) for name, info in zip(names, infos, strict=False) if info}


def _flags(info: Any) -> set[str]:
    return {(flag.decode() if isinstance(flag, bytes) else str(flag)).lower()
            for flag in info[2]}
