"""Connection URLs: which kind of database a URL names, whether it is well formed, and how to show it."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from studio_tui.services.errors import ValidationError
from studio_tui.services.kinds import KINDS, SCHEMES, DatabaseKind
from studio_tui.services.redaction import mask_url


@dataclass(frozen=True, slots=True)
class ConnectionTarget:
    """What a URL points at, safe to display."""

    kind: DatabaseKind
    scheme: str
    host: str
    port: int | None
    masked_url: str

    @property
    def display_host(self) -> str:
        return f"{self.host}:{self.port}" if self.port else self.host


def parse_connection_url(url: str) -> ConnectionTarget:
    """Validate ``url`` and tell what it names; raise ValidationError with a field message if not."""
    url = url.strip()
    if not url:
        raise ValidationError("A connection URL is required.", field_errors={"url": "required"})
    if "://" not in url:
        raise ValidationError(
            "A connection URL starts with a scheme, e.g. redis://, mongodb:// or postgresql://.",
            field_errors={"url": "missing scheme"},
        )
    scheme = url.split("://", 1)[0].lower()
    kind = SCHEMES.get(scheme)
    if kind is None:
        known = ", ".join(sorted(f"{s}://" for s in SCHEMES))
        raise ValidationError(
            f"Unknown scheme {scheme}://; expected one of {known}.",
            field_errors={"url": f"unknown scheme {scheme}://"},
        )
    masked = mask_url(url)
    try:
        parts = urlsplit(url)
    except ValueError:
        # urlsplit's own message repeats the bracketed host, which may hold a password.
        reason = "a host in [ ] must be an IPv6 address, with its closing ]"
        raise ValidationError(
            f"Malformed URL {masked}: {reason}.", field_errors={"url": reason}
        ) from None
    # A seed list (mongodb://a,b,c) names several hosts; show them as given.
    spec = KINDS[kind]
    hostinfo = parts.netloc.rpartition("@")[2]
    if spec.seed_lists and "," in hostinfo:
        return ConnectionTarget(kind, scheme, hostinfo, None, masked)
    try:
        port = parts.port
    except ValueError as exc:
        # urlsplit's message repeats the bad port, which may be the head of a password typed
        # unencoded ("u:pa/ss@h" splits at the '/'); say what is wrong without it.
        reason = ("port out of range 0-65535" if "out of range" in str(exc)
                  else "the port is not a number")
        raise ValidationError(
            f"Malformed URL {masked}: {reason}.", field_errors={"url": reason}
        ) from None
    if scheme in spec.socket_schemes:
        if not parts.path:
            raise ValidationError(
                "A unix socket URL needs a path, e.g. unix:///run/redis.sock.",
                field_errors={"url": "missing socket path"},
            )
        return ConnectionTarget(kind, scheme, parts.path, None, masked)
    query_host = ""
    if spec.host_in_query:
        from urllib.parse import parse_qs

        query_host = (parse_qs(parts.query).get("host") or [""])[0]
    if not parts.hostname and not query_host:
        raise ValidationError(
            f"The URL {masked} has no host.", field_errors={"url": "missing host"}
        )
    # ?host=/run/postgresql names a socket directory: shown as the host in messages.
    return ConnectionTarget(kind, scheme, parts.hostname or query_host, port, masked)


def split_password(url: str) -> tuple[str, str]:
    """(url without its password, the password or ""), so a form can keep the password in a
    masked field and never show it in the URL field."""
    if "://" not in url:
        return url, ""
    scheme, rest = url.split("://", 1)
    authority, slash, tail = _authority(rest)
    if "@" not in authority:
        return url, ""
    userinfo, _, hosts = authority.rpartition("@")
    if ":" not in userinfo:
        return url, ""
    user, _, password = userinfo.partition(":")
    from urllib.parse import unquote

    bare = f"{scheme}://{user + '@' if user else ''}{hosts}{slash}{tail}"
    return bare, unquote(password)


def with_password(url: str, password: str) -> str:
    """Put ``password`` into ``url``'s user info (percent-encoded); unchanged if empty."""
    if not password or "://" not in url:
        return url
    from urllib.parse import quote

    bare, _ = split_password(url)
    scheme, rest = bare.split("://", 1)
    authority, slash, tail = _authority(rest)
    user, at, hosts = authority.rpartition("@")
    if not at:
        user, hosts = "", authority
    return f"{scheme}://{user}:{quote(password, safe='')}@{hosts}{slash}{tail}"


def _authority(rest: str) -> tuple[str, str, str]:
    """(user info and hosts, the character that ends them, the rest): the authority ends at the
    first '/', '?' or '#', as urlsplit reads it; a password put after an '@' in a query would
    otherwise be outside what the masks look at."""
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    return rest[:end], rest[end:end + 1], rest[end + 1:]
