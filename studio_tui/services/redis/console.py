"""The Redis console: commands one per line, several lines as one pipeline. Dangerous commands
need the user to type their name to confirm, and writes are refused on read-only entries — the
server itself says which commands write (COMMAND INFO), so nothing is guessed."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any

from studio_tui.services.errors import ServerError, StudioError, ValidationError
from studio_tui.services.redis.service import RedisService

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
    def dangerous(self) -> bool:
        sub = self.words[1].upper() if len(self.words) > 1 else ""
        return self.name in DANGEROUS or (self.name, sub) in DANGEROUS_SUBCOMMANDS


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
    write = needed is not None or await _writes(service, lines)

    async def execute(client) -> list[Any]:
        if len(lines) == 1:
            return [await client.execute_command(*lines[0].words)]
        pipe = client.pipeline(transaction=False)
        for line in lines:
            pipe.execute_command(*line.words)
        return await pipe.execute(raise_on_error=False)

    operation = lines[0].name if len(lines) == 1 else f"PIPELINE({len(lines)})"
    replies = await service.run(operation, execute, write=write, long=True)
    # In a pipeline each line answers for itself: an error on one does not hide the others.
    return [ServerError(str(reply), database=None) if isinstance(reply, Exception) else reply
            for reply in replies]


async def _writes(service: RedisService, lines: list[ConsoleLine]) -> bool:
    """Ask the server which of these commands write; unknown ones count as writes."""
    names = sorted({line.qualified for line in lines})
    infos = await service.run("COMMAND INFO",
                               lambda client: client.execute_command("COMMAND", "INFO", *names))
    if isinstance(infos, dict):  # redis-py parses the reply into {name: info}
        by_name = {str(name).lower(): info for name, info in infos.items()}
        infos = [by_name.get(name.lower()) for name in names]
    for info in infos:
        if not info:
            return True
        flags = {(flag.decode() if isinstance(flag, bytes) else str(flag)).lower()
                 for flag in _flags(info)}
        if "write" in flags or "admin" in flags:
            return True
    return False


def _flags(info: Any) -> list:
    # redis-py parses COMMAND INFO into a dict on some versions; the raw reply is a list.
    if isinstance(info, dict):
        return list(info.get("flags", []))
    return list(info[2])
