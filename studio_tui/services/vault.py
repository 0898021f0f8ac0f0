"""Encryption of connection URLs at rest (AES-256-GCM), the key's sources, and its checks.

The key comes from ``STUDIO_TUI_KEY`` (base64 of 32 bytes) or from a keyfile created on first run
with mode 0600. Weak keys are refused; a key that does not match the catalog is reported with
its source, and nothing is overwritten.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from studio_tui.services.errors import VaultError, WeakKeyError, WrongKeyError

KEY_ENV = "STUDIO_TUI_KEY"
NEW_KEY_ENV = "STUDIO_TUI_NEW_KEY"
KEY_BYTES = 32
_TOKEN_PREFIX = "v1."
_NONCE_BYTES = 12
_KEY_CHECK_CONTEXT = "studio-tui:key-check"
_KEY_CHECK_PLAINTEXT = "studio-tui key check v1"
# Defaults shipped by other tools; anyone can read them in public source.
_KNOWN_WEAK = {"sample_key", "changeme", "change-me", "secret", "password", "default", "key"}


@dataclass(frozen=True, slots=True)
class KeyMaterial:
    key: bytes
    source: str  # "STUDIO_TUI_KEY" or "keyfile /path", named in every key error

    @property
    def fingerprint(self) -> str:
        """Safe to show: identifies a key without revealing it."""
        return hashlib.sha256(b"studio-tui fingerprint" + self.key).hexdigest()[:12]


def generate_key_text() -> str:
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()


def parse_key_text(text: str, source: str) -> KeyMaterial:
    """Decode and vet a base64 key; refuse anything weak with a message naming ``source``."""
    stripped = text.strip()
    if stripped.lower() in _KNOWN_WEAK:
        raise WeakKeyError(
            f"The key from {source} is a well-known default ({stripped!r}) and protects nothing. "
            "Generate one with `studio-tui keys generate`."
        )
    try:
        key = base64.b64decode(stripped, validate=True)
    except (binascii.Error, ValueError):
        raise WeakKeyError(
            f"The key from {source} is not valid base64. "
            "Generate one with `studio-tui keys generate`."
        ) from None
    if len(key) < KEY_BYTES:
        raise WeakKeyError(
            f"The key from {source} is {len(key)} bytes; AES-256 needs {KEY_BYTES}. "
            "Generate one with `studio-tui keys generate`."
        )
    if len(key) > KEY_BYTES:
        raise WeakKeyError(f"The key from {source} is {len(key)} bytes; expected exactly {KEY_BYTES}.")
    if _is_patterned(key):
        raise WeakKeyError(
            f"The key from {source} is a repeating byte pattern, not a random key. "
            "Generate one with `studio-tui keys generate`."
        )
    return KeyMaterial(key, source)


def _is_patterned(key: bytes) -> bool:
    """All-same bytes, or any pattern of period 4 or less (e.g. 0101…, abcdabcd…)."""
    return any(key == (key[:period] * (len(key) // period + 1))[: len(key)] for period in (1, 2, 3, 4))


class KeyFile:
    """The on-disk key, with a pending slot used while a rotation is committing."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.pending_path = path.with_name(path.name + ".pending")

    @property
    def source(self) -> str:
        return f"keyfile {self.path}"

    def exists(self) -> bool:
        return self.path.exists()

    def read(self, path: Path | None = None) -> KeyMaterial:
        path = path or self.path
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise VaultError(
                f"The keyfile {path} is readable by others (mode {mode:o}); run `chmod 600 {path}`."
            )
        return parse_key_text(path.read_text(), f"keyfile {path}")

    def create(self) -> KeyMaterial:
        text = generate_key_text()
        _write_private(self.path, text, exclusive=True)
        return parse_key_text(text, self.source)

    def write_pending(self, text: str) -> None:
        _write_private(self.pending_path, text, exclusive=False)

    def commit_pending(self) -> None:
        os.replace(self.pending_path, self.path)
        _fsync_dir(self.path.parent)

    def discard_pending(self) -> None:
        self.pending_path.unlink(missing_ok=True)


def _write_private(path: Path, text: str, *, exclusive: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(path, flags, 0o600)
    try:
        os.write(fd, text.encode() + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(path, 0o600)
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Vault:
    """Encrypts and decrypts secrets with one key. ``context`` binds a ciphertext to its row."""

    def __init__(self, material: KeyMaterial) -> None:
        self.material = material
        self._aead = None

    @property
    def source(self) -> str:
        return self.material.source

    def _cipher(self):
        if self._aead is None:
            # Imported on first use: start-up should not pay for it.
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM

            self._aead = AESGCM(self.material.key)
        return self._aead

    def encrypt(self, plaintext: str, context: str) -> str:
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = self._cipher().encrypt(nonce, plaintext.encode(), context.encode())
        return _TOKEN_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()

    def decrypt(self, token: str, context: str) -> str:
        from cryptography.exceptions import InvalidTag

        if not token.startswith(_TOKEN_PREFIX):
            raise VaultError("A stored secret is in an unknown format; it may be corrupt.")
        try:
            raw = base64.urlsafe_b64decode(token[len(_TOKEN_PREFIX):])
            opened = self._cipher().decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], context.encode())
        except (InvalidTag, ValueError, binascii.Error):
            raise WrongKeyError(
                f"A stored secret cannot be decrypted with the key from {self.source}; "
                "either the key is wrong or the catalog is damaged."
            ) from None
        return opened.decode()

    def key_check(self) -> str:
        """A token the catalog keeps, so a wrong key is caught before any secret is touched."""
        return self.encrypt(_KEY_CHECK_PLAINTEXT, _KEY_CHECK_CONTEXT)

    def matches(self, key_check: str) -> bool:
        try:
            return self.decrypt(key_check, _KEY_CHECK_CONTEXT) == _KEY_CHECK_PLAINTEXT
        except VaultError:
            return False

    def verify(self, key_check: str) -> None:
        if not self.matches(key_check):
            raise WrongKeyError(
                f"The key from {self.source} (fingerprint {self.material.fingerprint}) does not "
                "match the one this catalog was encrypted with. Nothing was changed. Use the "
                "original key, or move the catalog aside to start afresh."
            )
