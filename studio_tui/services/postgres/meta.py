"""pg-meta (Supabase's postgres-meta) as a catalog source: SQL over ``POST /query`` with the
connection string in the ``x-connection-encrypted`` header, encrypted the way crypto-js's
``AES.encrypt(text, passphrase)`` does it (OpenSSL "Salted__" format: EVP_BytesToKey with MD5,
AES-256-CBC, base64), with pg-meta's CRYPTO_KEY.

pg-meta 0.99 binds ``parameters`` given beside the query (node-postgres ``query(sql, values)``),
so values are bound here as they are over asyncpg. A pg-meta that ignored them would fail the
statement (a ``$1`` with no value), never splice them.

httpx and cryptography are imported when a pg-meta entry is first opened."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from studio_tui.services.errors import (
    AuthenticationError,
    ConnectionFailedError,
    OperationTimeoutError,
    ServerError,
    StudioError,
    UnavailableError,
    ValidationError,
)
from studio_tui.services.drivers.base import classify_os_error
from studio_tui.services.manager import ConnectionManager
from studio_tui.services.platform.models import DatabaseEntry
from studio_tui.services.postgres.source import CatalogSource
from studio_tui.services.redaction import scrub_text, secrets_of

# Keys published in pg-meta's sources and docs: anyone could decrypt a header made with them.
KNOWN_KEYS = frozenset({"sample_key", "your-encryption-key-32-chars-min",
                        "your-super-secret-and-long-postgres-password"})
MIN_KEY_LENGTH = 16
APPLICATION_NAME = "studio-tui"
CANCEL_TIMEOUT = 5.0


def check_crypto_key(key: str) -> str:
    """The key, or a ValidationError saying why it is refused."""
    if key.strip().lower() in KNOWN_KEYS:
        raise ValidationError(
            f"{key.strip()!r} is pg-meta's published default CRYPTO_KEY: anyone could decrypt "
            "the connection string sent with it. Set CRYPTO_KEY on the pg-meta server to a "
            "secret of your own and enter that here.", field_errors={"meta_key": "default key"})
    if len(key) < MIN_KEY_LENGTH:
        raise ValidationError(
            f"A pg-meta CRYPTO_KEY of {len(key)} characters is too short to protect the "
            f"connection string; use at least {MIN_KEY_LENGTH}.",
            field_errors={"meta_key": f"at least {MIN_KEY_LENGTH} characters"})
    return key


def check_meta_url(url: str) -> str:
    url = url.strip().rstrip("/")
    try:
        parts = urlsplit(url)
        hostname = parts.hostname  # "[zz]" parses, and fails only here
    except ValueError as exc:
        raise ValidationError(f"The pg-meta URL {url!r} is malformed: {exc}.",
                              field_errors={"meta_url": "http(s)://host:port"}) from None
    if parts.scheme not in ("http", "https") or not hostname:
        raise ValidationError(f"A pg-meta URL is http(s)://host:port, not {url!r}.",
                              field_errors={"meta_url": "http(s)://host:port"})
    if parts.username or parts.password:
        raise ValidationError("A pg-meta URL carries no credentials.",
                              field_errors={"meta_url": "no credentials"})
    return url


def crypto_js_encrypt(plaintext: str, passphrase: str, *, salt: bytes | None = None) -> str:
    """crypto-js ``AES.encrypt(plaintext, passphrase).toString()``."""
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    salt = os.urandom(8) if salt is None else salt
    secret, block = passphrase.encode(), b""
    derived = b""
    while len(derived) < 48:  # EVP_BytesToKey, MD5, one round: 32 bytes of key, 16 of IV
        block = hashlib.md5(block + secret + salt).digest()  # noqa: S324 - the format's own KDF
        derived += block
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext.encode()) + padder.finalize()
    encryptor = Cipher(algorithms.AES(derived[:32]), modes.CBC(derived[32:48])).encryptor()
    sealed = encryptor.update(padded) + encryptor.finalize()
    return base64.b64encode(b"Salted__" + salt + sealed).decode()


@dataclass(frozen=True)
class PgMetaSettings:
    url: str
    key: str

    def __repr__(self) -> str:  # the key never shows, not even in a traceback's locals
        return f"PgMetaSettings(url={self.url!r})"

    @property
    def display(self) -> str:
        return urlsplit(self.url).netloc

    def to_text(self) -> str:
        return json.dumps({"url": self.url, "key": self.key})

    @classmethod
    def parse(cls, url: str, key: str) -> "PgMetaSettings":
        return cls(check_meta_url(url), check_crypto_key(key))

    @classmethod
    def from_entry(cls, catalog, entry: DatabaseEntry) -> "PgMetaSettings":
        """The entry's pg-meta settings, decrypted (``Catalog.pg_meta``), checked again: a key
        saved before it was known to be weak is refused now."""
        url, key = catalog.pg_meta(entry)
        return cls.parse(url, key)


class MetaSource(CatalogSource):
    """SQL through pg-meta, on one pooled httpx client per opened browser."""

    mode = "pg-meta"

    def __init__(self, manager: ConnectionManager, entry: DatabaseEntry,
                 settings: PgMetaSettings) -> None:
        super().__init__(manager, entry)
        self.settings = settings
        self._secrets = [*secrets_of(manager.catalog.database_url(entry)), settings.key]
        self._client = None

    @property
    def description(self) -> str:
        return f"pg-meta at {self.settings.display}"

    def _http(self):
        if self._client is None:
            import httpx

            from studio_tui.services.tiers import TIER_LIMITS

            limits = TIER_LIMITS[self.entry.tier]
            self._client = httpx.AsyncClient(
                base_url=self.settings.url,
                timeout=httpx.Timeout(limits.query_timeout, connect=limits.connect_timeout),
                limits=httpx.Limits(max_connections=limits.max_pool,
                                    max_keepalive_connections=limits.min_pool),
                headers={"x-pg-application-name": APPLICATION_NAME})
        return self._client

    async def fetch(self, operation: str, sql: str, *params: Any,
                    long: bool = False) -> list[dict[str, Any]]:
        limit = self.manager.time_limit(self.entry, long=long)

        async def post(_: None) -> list[dict[str, Any]]:
            return await self._post(sql, list(params), limit)

        return await self.manager.run(self.entry.id, f"{operation} (pg-meta)", post, long=long,
                                      connect=False)

    async def query(self, sql: str, params: list[Any] | None = None, *,
                    long: bool = True, read_only: bool = False) -> list[dict[str, Any]]:
        """One statement typed by the user (the SQL editor), ``params`` bound by pg-meta; in a
        READ ONLY transaction on a read-only entry, or when ``read_only``."""
        if self.entry.read_only or read_only:
            # pg-meta's connection is not opened read-only: SET TRANSACTION READ ONLY before
            # the statement (one implicit transaction holds them both) makes the server refuse
            # writes, as the direct pool's default_transaction_read_only does. Bound values
            # need the extended protocol, which takes one statement only.
            if params:
                raise ValidationError(
                    f"{self.entry.name} is read-only, and pg-meta cannot both bind values and "
                    "open a read-only session in one request: run it without parameters.")
            sql = f"SET TRANSACTION READ ONLY;\n{sql}"  # sql-splice: the user's own statement
        return await self.fetch("query", sql, *(params or []), long=long)

    async def _post(self, sql: str, params: list[Any], limit: float) -> list[dict[str, Any]]:
        import httpx

        header = crypto_js_encrypt(self.manager.catalog.database_url(self.entry),
                                   self.settings.key)
        body: dict[str, Any] = {"query": sql}
        if params:
            body["parameters"] = params
        where = self.settings.display
        # Without values, pg-meta puts SET statement_timeout before the query, so a slow query
        # stops on the server too. With values it cannot (one statement per bound query): the
        # query then has node-postgres's client-side timeout only.
        timeout_key = "queryTimeoutSecs" if params else "statementTimeoutSecs"
        # pg-meta opens a connection per request with the application_name asked for: a name
        # of its own lets a cancelled request's statement be found and cancelled on the server.
        tag = f"{APPLICATION_NAME} {uuid.uuid4().hex[:12]}"
        try:
            response = await self._http().post(
                "/query", json=body, params={timeout_key: max(1, int(limit))},
                headers={"x-connection-encrypted": header, "x-pg-application-name": tag})
        except asyncio.CancelledError:
            asyncio.get_running_loop().create_task(self._cancel_on_server(tag))
            raise
        except httpx.TimeoutException:
            raise OperationTimeoutError(f"pg-meta at {where} did not answer in time.") from None
        except httpx.ConnectError as exc:
            error = classify_os_error(exc, f"pg-meta at {where}")
            error.detail = self._scrub(error.detail)
            raise error from None
        except httpx.HTTPError as exc:
            raise ConnectionFailedError(f"pg-meta at {where} failed: {self._scrub(exc)}."
                                        ) from None
        try:  # megabytes of JSON at 10,000 tables: parsed beside the event loop
            payload = await asyncio.to_thread(response.json)
        except ValueError:
            payload = None
        return self._rows(response, payload, where)

    async def _cancel_on_server(self, tag: str) -> None:
        """Cancel the statement of the request named ``tag`` (the user let go of it), through
        pg-meta as well; at worst it runs on until its statement_timeout."""
        for attempt in range(2):  # the request's connection may still be opening
            try:
                if await self._post("SELECT pg_cancel_backend(pid) AS cancelled "
                                    "FROM pg_stat_activity WHERE application_name = $1",
                                    [tag], CANCEL_TIMEOUT):
                    return
            except (StudioError, asyncio.CancelledError):
                return
            await asyncio.sleep(0.5)

    def _rows(self, response, payload: Any, where: str) -> list[dict[str, Any]]:
        if response.status_code == 200 and isinstance(payload, list):
            return payload
        message = payload.get("error") or payload.get("message") if isinstance(payload, dict) \
            else response.text[:200]
        message = self._scrub(message or f"HTTP {response.status_code}")
        if "upstream connection details" in message:
            raise AuthenticationError(
                f"pg-meta at {where} could not decrypt the connection string: its CRYPTO_KEY "
                "is not the key saved with this entry.")
        if response.status_code in (502, 503, 504) or response.status_code >= 500 and \
                "connect" in message.lower():
            raise UnavailableError(f"pg-meta at {where} cannot reach the database: {message}")
        if response.status_code == 408:
            raise OperationTimeoutError(f"pg-meta at {where}: {message}")
        raise ServerError(f"{message} (pg-meta HTTP {response.status_code})")

    def _scrub(self, text: object) -> str:
        return scrub_text(str(text), self._secrets)

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()

