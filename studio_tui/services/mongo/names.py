"""MongoDB's rules for database and collection names, checked before anything is sent, with a
message that says which rule a name breaks."""

from __future__ import annotations

from studio_tui.services.errors import ValidationError

# Characters a database name may not hold (the set MongoDB applies on every platform).
_DATABASE_FORBIDDEN = '/\\. "$*<>:|?'
DATABASE_MAX_BYTES = 63  # fewer than 64
NAMESPACE_MAX_BYTES = 255  # "database.collection"


def _fail(field: str, message: str) -> ValidationError:
    return ValidationError(message, field_errors={field: message})


def check_database_name(name: str) -> str:
    if not name:
        raise _fail("database", "A database name cannot be empty.")
    bad = sorted({char for char in name if char in _DATABASE_FORBIDDEN or char == "\0"})
    if bad:
        shown = " ".join("space" if c == " " else "NUL" if c == "\0" else c for c in bad)
        raise _fail("database", f"A database name cannot contain {shown}.")
    if len(name.encode()) > DATABASE_MAX_BYTES:
        raise _fail("database", f"A database name must be under 64 bytes "
                                f"(this one is {len(name.encode())}).")
    return name


def check_collection_name(database: str, name: str) -> str:
    if not name:
        raise _fail("collection", "A collection name cannot be empty.")
    if "$" in name:
        raise _fail("collection", "A collection name cannot contain $.")
    if "\0" in name:
        raise _fail("collection", "A collection name cannot contain the NUL character.")
    if name.startswith("system."):
        raise _fail("collection", 'Names starting with "system." are reserved for MongoDB.')
    if name.startswith("."):
        raise _fail("collection", "A collection name cannot start with a dot.")
    size = len(f"{database}.{name}".encode())
    if size > NAMESPACE_MAX_BYTES:
        raise _fail("collection", f'"database.collection" must be at most {NAMESPACE_MAX_BYTES} '
                                  f"bytes (this one is {size}).")
    return name
