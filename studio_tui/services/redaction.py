"""Keeps secrets out of text: masks passwords in URLs and scrubs known secrets from messages.

Every message that leaves the service layer (errors, logs, CLI output) passes through here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote, unquote, urlsplit

MASK = "****"

# scheme://user:password@host  — the password part is everything between the first ':'
# after the scheme's '//' and the last '@' before the host.
_URL_WITH_PASSWORD = re.compile(
    r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^:/@\s]*:)(?P<password>[^@\s]*)(?P<tail>@)"
)
# key=value secrets inside query strings and libpq-style DSNs.
_SECRET_PARAMS = re.compile(
    r"(?P<head>\b(?:password|passwd|pwd|secret|token|sslpassword|tlsCertificateKeyFilePassword)=)"
    r"(?P<value>[^&\s;]+)",
    re.IGNORECASE,
)


def mask_url(url: str) -> str:
    """Return ``url`` with any password (userinfo or query parameter) replaced by ****."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _mask_userinfo(scrub_text(url))
    if not parts.scheme or ("@" not in parts.netloc and _broken_authority(parts)):
        # Not a URL to urlsplit ("://u:pw@h"), or a user info it did not find because a
        # character of the password ended the host part ("u:pa/ss@h", "/:pw@h"): nothing to
        # rebuild, only a password to hide.
        return _mask_userinfo(scrub_text(url))
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostinfo = netloc.rpartition("@")
        if ":" in userinfo:
            user = userinfo.split(":", 1)[0]
            netloc = f"{user}:{MASK}@{hostinfo}"
    query = _SECRET_PARAMS.sub(lambda m: m["head"] + MASK, parts.query)
    # A "password=" after a '#' is no parameter to the driver, but it is still the user's secret.
    fragment = _SECRET_PARAMS.sub(lambda m: m["head"] + MASK, parts.fragment)
    if (netloc, query, fragment) == (parts.netloc, parts.query, parts.fragment):
        return url
    # Rebuilt by hand: urlunsplit drops the '//' of an empty host (unix:///path).
    masked = f"{parts.scheme}://{netloc}{parts.path}"
    masked += f"?{query}" if query else ""
    return masked + (f"#{fragment}" if fragment else "")


def _broken_authority(parts) -> bool:
    try:
        parts.port
    except ValueError:
        return True
    return not parts.hostname


def _mask_userinfo(text: str) -> str:
    """For text urlsplit refuses (an unclosed '[', a bad port, a raw control character): mask
    everything between the user's ':' and the last '@' after the scheme, whatever it holds
    (the regexes stop at whitespace, which a mistyped password may hold)."""
    head, sep, rest = text.partition("://")
    userinfo, at, hosts = rest.rpartition("@")
    if not sep or not at or ":" not in userinfo:
        return text
    return f"{head}://{userinfo.split(':', 1)[0]}:{MASK}@{hosts}"


def url_password(url: str) -> str | None:
    """The password embedded in ``url``, decoded, or None."""
    try:
        password = urlsplit(url).password
    except ValueError:
        return None
    return unquote(password) if password else None


def scrub_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Mask URL passwords and any of ``secrets`` (raw and percent-encoded) found in ``text``."""
    text = _URL_WITH_PASSWORD.sub(lambda m: m["head"] + MASK + m["tail"], text)
    text = _SECRET_PARAMS.sub(lambda m: m["head"] + MASK, text)
    for secret in secrets:
        # Very short secrets would mask unrelated characters everywhere; a URL's
        # password is already masked by the patterns above in any case.
        if not secret or len(secret) < 3:
            continue
        for form in {secret, quote(secret, safe=""), quote(secret)}:
            text = text.replace(form, MASK)
    return text


def secrets_of(url: str) -> list[str]:
    """Every secret that a connection URL carries, for scrubbing driver messages."""
    found: list[str] = []
    password = url_password(url)
    if password:
        found.append(password)
    try:
        query = urlsplit(url).query
    except ValueError:
        query = ""
    for match in _SECRET_PARAMS.finditer(query):
        found.append(unquote(match["value"]))
    return found
