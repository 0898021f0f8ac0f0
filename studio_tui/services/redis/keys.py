"""Binary-safe Redis keys: shown as readable text, with anything that is not printable UTF-8
escaped, and parsed back to the exact bytes."""

from __future__ import annotations

_ESCAPES = {ord("\\"): "\\\\", ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"}
_UNESCAPES = {"\\": b"\\", "n": b"\n", "r": b"\r", "t": b"\t"}
_GLOB = set("*?[")


def display_key(raw: bytes) -> str:
    """UTF-8 text where possible; backslash escapes (\\xNN, \\n, \\\\) for the rest."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return _escape_bytes(raw)
    if text.isprintable() and "\\" not in text:
        return text
    return "".join(_ESCAPES.get(ord(c)) or (c if c.isprintable() else _escape_char(c))
                   for c in text)


def key_label(raw: bytes, limit: int = 80) -> str:
    """``display_key`` cut to ``limit`` characters, for messages: a 1 MB key name must not
    become a 4 MB status line (its length in bytes says it was cut)."""
    shown = display_key(raw[: limit * 4])
    if len(shown) <= limit and len(raw) <= limit * 4:
        return shown
    return f"{shown[: limit - 1]}… ({len(raw):,} bytes)"


def _escape_char(char: str) -> str:
    return "".join(f"\\x{b:02x}" for b in char.encode("utf-8"))


def _escape_bytes(raw: bytes) -> str:
    out: list[str] = []
    index = 0
    while index < len(raw):
        # Keep valid UTF-8 runs readable even inside a binary key.
        for width in (1, 2, 3, 4):
            chunk = raw[index:index + width]
            try:
                char = chunk.decode("utf-8")
            except UnicodeDecodeError:
                continue
            out.append(_ESCAPES.get(ord(char)) or (char if char.isprintable()
                                                   else _escape_char(char)))
            index += width
            break
        else:
            out.append(f"\\x{raw[index]:02x}")
            index += 1
    return "".join(out)


def parse_key(text: str) -> bytes:
    """The inverse of ``display_key``: what a user types back becomes the exact bytes."""
    out = bytearray()
    index = 0
    while index < len(text):
        char = text[index]
        if char != "\\" or index + 1 >= len(text):
            out += char.encode("utf-8")
            index += 1
            continue
        following = text[index + 1]
        if following == "x" and _is_hex(text[index + 2:index + 4]):
            out.append(int(text[index + 2:index + 4], 16))
            index += 4
        elif following in _UNESCAPES:
            out += _UNESCAPES[following]
            index += 2
        else:
            out += b"\\"
            index += 1
    return bytes(out)


def _is_hex(pair: str) -> bool:
    return len(pair) == 2 and all(c in "0123456789abcdefABCDEF" for c in pair)


def has_glob(pattern: bytes) -> bool:
    """True if ``pattern`` uses SCAN MATCH wildcards (unescaped * ? [)."""
    escaped = False
    for byte in pattern:
        char = chr(byte)
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in _GLOB:
            return True
    return False
