"""`:` command mode: the commands, their aliases, and completion. Parsing only; the app acts."""

from __future__ import annotations

from dataclasses import dataclass

ALIASES: dict[str, str] = {
    "orgs": "orgs", "organizations": "orgs", "org": "orgs", "o": "orgs",
    "projects": "projects", "project": "projects", "p": "projects",
    "dbs": "dbs", "databases": "dbs", "db": "dbs", "d": "dbs",
    "open": "open",
    "health": "health", "h": "health",
    "theme": "theme",
    "help": "help",
    "quit": "quit", "q": "quit", "exit": "quit",
}

COMMAND_HELP: tuple[tuple[str, str], ...] = (
    (":orgs", "organizations (also :o)"),
    (":projects [org]", "projects of an organization (also :p)"),
    (":dbs [org/project]", "databases of a project, or all (also :d)"),
    (":open <db>", "open a database by name (project/name if ambiguous)"),
    (":health", "health and metrics of the databases in use (also :h)"),
    (":theme <name>", "switch the colour theme; remembered"),
    (":help", "this help"),
    (":quit", "leave (also :q)"),
)


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    argument: str = ""


class UnknownCommand(ValueError):
    pass


def parse_command(text: str) -> Command:
    text = text.strip().removeprefix(":").strip()
    if not text:
        raise UnknownCommand("Type a command, e.g. :dbs or :open orders")
    word, _, argument = text.partition(" ")
    name = ALIASES.get(word.lower())
    if name is None:
        close = sorted(a for a in ALIASES if a.startswith(word.lower()[:1]))
        hint = f" Did you mean {', '.join(':' + c for c in close[:4])}?" if close else ""
        raise UnknownCommand(f"Unknown command :{word}.{hint}")
    if name == "open" and not argument.strip():
        raise UnknownCommand(":open needs a database name, e.g. :open orders")
    return Command(name, argument.strip())


def completing(typed: str, lines: list[str]) -> list[str]:
    """The suggestion ``lines`` that complete ``typed`` (case aside), in their order: what tab
    goes through. A leading ``:`` is kept."""
    colon = ":" if typed.startswith(":") else ""
    stem = typed.removeprefix(":").lower()
    return [colon + line for line in lines
            if line.lower().startswith(stem) and line.lower() != stem]


def completions(names: dict[str, list[str]]) -> list[str]:
    """Every full command line worth suggesting, given the catalog's names by command."""
    lines = sorted({f"{alias}" for alias in ALIASES if len(alias) > 2})
    for command, values in names.items():
        lines += [f"{command} {value}" for value in values]
    return lines
