"""The one way an identifier enters SQL text: always quoted, whatever it is.

Values never enter SQL text at all: they are bound ($1, $2 …). Quoting every identifier (not
only those that "need" it) means a name with quotes, spaces, upper case, unicode or a keyword
comes back exactly as PostgreSQL stores it."""

from __future__ import annotations

from studio_tui.services.errors import ValidationError

MAX_IDENTIFIER_BYTES = 63  # NAMEDATALEN - 1, as every PostgreSQL build ships it


def quote_ident(name: str) -> str:
    '''``name`` as a quoted identifier: ``my "t"`` → ``"my ""t"""``.'''
    if not isinstance(name, str) or not name:
        raise ValidationError("An identifier cannot be empty.")
    if "\x00" in name:
        raise ValidationError(f"The identifier {name!r} holds a NUL character, which "
                              "PostgreSQL does not allow.")
    if len(name.encode("utf-8")) > MAX_IDENTIFIER_BYTES:
        # PostgreSQL would cut it to 63 bytes with only a NOTICE, and the SQL would then name
        # another object (or create one under a name nobody typed).
        raise ValidationError(
            f"The identifier {name[:40]!r}… is {len(name.encode('utf-8'))} bytes long; "
            f"PostgreSQL names hold at most {MAX_IDENTIFIER_BYTES} bytes.")
    return '"' + name.replace('"', '""') + '"'


def qualified(schema: str, name: str) -> str:
    """``schema.name``, each part quoted."""
    return f"{quote_ident(schema)}.{quote_ident(name)}"
