"""Unlocking the catalog's secrets, and rotating the key atomically.

Rotation with a keyfile: the new key is written to ``key.pending`` first, then every secret and
the key check are rewritten in one catalog transaction, then ``key.pending`` replaces ``key``.
If the process dies anywhere, the next unlock sees which key the catalog's key check matches and
finishes or discards the pending key: the catalog is never left under a key nobody holds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from studio_tui.services.errors import VaultError, WrongKeyError
from studio_tui.services.platform.store import CatalogStore
from studio_tui.services.vault import (
    KEY_ENV,
    NEW_KEY_ENV,
    KeyFile,
    KeyMaterial,
    Vault,
    generate_key_text,
    parse_key_text,
)

KEY_CHECK = "key_check"


async def unlock(store: CatalogStore, key_path: Path, env: Mapping[str, str]) -> Vault:
    """The vault for this catalog, creating the keyfile on first run. Raises WeakKeyError or
    WrongKeyError (naming the key's source) and changes nothing when the key is not right."""
    key_check = await store.get_meta(KEY_CHECK)
    keyfile = KeyFile(key_path)
    if env.get(KEY_ENV):
        material = parse_key_text(env[KEY_ENV], KEY_ENV)
    else:
        if keyfile.pending_path.exists():
            _recover_interrupted_rotation(keyfile, key_check)
        if keyfile.exists():
            material = keyfile.read()
        elif key_check is None:
            material = keyfile.create()
        else:
            raise WrongKeyError(
                f"The keyfile {key_path} is missing, but the catalog holds secrets encrypted "
                f"with a key. Restore the keyfile, or set {KEY_ENV}."
            )
    vault = Vault(material)
    if key_check is None:
        # Two instances of a fresh shared catalog may both get here: one key check wins, and
        # the other instance's key is verified against it (a clear WrongKeyError, not garbage).
        key_check = await store.set_meta_if_absent(KEY_CHECK, vault.key_check())
    _verify(vault, key_check, env)
    return vault


def _verify(vault: Vault, key_check: str, env: Mapping[str, str]) -> None:
    if vault.matches(key_check):
        return
    new_text = env.get(NEW_KEY_ENV)
    if new_text and Vault(parse_key_text(new_text, NEW_KEY_ENV)).matches(key_check):
        raise WrongKeyError(
            f"The catalog was re-encrypted with the key in {NEW_KEY_ENV}; "
            f"set {KEY_ENV} to that key."
        )
    vault.verify(key_check)


def _recover_interrupted_rotation(keyfile: KeyFile, key_check: str | None) -> None:
    pending = Vault(keyfile.read(keyfile.pending_path))
    if key_check is not None and pending.matches(key_check):
        keyfile.commit_pending()  # the catalog committed; finish the rename that was cut short
    else:
        keyfile.discard_pending()  # the catalog never committed; the old key is still the key


@dataclass(frozen=True, slots=True)
class RotationReport:
    secrets: int
    old_fingerprint: str
    new_fingerprint: str
    source: str


# Test hook: called between the catalog commit and the keyfile rename.
AfterCommit = Callable[[], None]


async def rotate(store: CatalogStore, vault: Vault, key_path: Path, env: Mapping[str, str], *,
                 after_commit: AfterCommit | None = None,
                 rewrap_hook: Callable[[str], None] | None = None) -> RotationReport:
    """Re-encrypt every secret under a new key, all or nothing.

    With a keyfile, the new key is generated. With ``STUDIO_TUI_KEY``, the new key must be given
    in ``STUDIO_TUI_NEW_KEY``, since this process cannot change its caller's environment.
    """
    from_env = bool(env.get(KEY_ENV))
    keyfile = KeyFile(key_path)
    if from_env:
        if not env.get(NEW_KEY_ENV):
            raise VaultError(
                f"The key comes from {KEY_ENV}. Put a new key (from `studio-tui keys generate`) "
                f"in {NEW_KEY_ENV} and run the rotation again."
            )
        new_material = parse_key_text(env[NEW_KEY_ENV], NEW_KEY_ENV)
    else:
        text = generate_key_text()
        new_material = parse_key_text(text, keyfile.source)
        keyfile.write_pending(text)
    if new_material.key == vault.material.key:
        raise VaultError("The new key is the same as the current one.")
    new_vault = Vault(new_material)

    def rewrap(database_id: str, token: str) -> str:
        if rewrap_hook is not None:
            rewrap_hook(database_id)
        return new_vault.encrypt(vault.decrypt(token, database_id), database_id)

    try:
        count = await store.rewrap_secrets(rewrap, new_vault.key_check())
    except BaseException:
        if not from_env:
            keyfile.discard_pending()
        raise
    if after_commit is not None:
        after_commit()
    if not from_env:
        keyfile.commit_pending()
    source = KEY_ENV if from_env else keyfile.source
    return RotationReport(count, vault.material.fingerprint, new_material.fingerprint, source)


__all__ = ["KeyMaterial", "RotationReport", "rotate", "unlock"]
