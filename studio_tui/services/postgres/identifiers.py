"""The one way an identifier enters SQL text: always quoted, whatever it is.

Values never enter SQL text at all: they are bound ($1, $2 …). Quoting every identifier (not
only those that "need" it) means a name with quotes, spaces, upper case, unicode or a keyword
comes back exactly as PostgreSQL stores it."""

from __future__ import annotations

from studio_tui.services.errors import ValidationError


def quote_ident(name: str) -> str:
    '''``name`` as a quoted identifier: ``my "t"`` → ``"my ""t"""``.'''
    if not isinstance(name, str) or not name:
        raise ValidationError("An identifier cannot be empty.")
    if "\x00" in name:
        raise ValidationError(f"The identifier {name!r} holds a NUL character, which "
                              "PostgreSQL does not allow.")
    return '"' + name.replace('"', '""') + '"'


def qualified(schema: str, name: str) -> str:
    """``schema.name``, each part quoted."""
    return f"{quote_ident(schema)}.{quote_ident(name)}"
