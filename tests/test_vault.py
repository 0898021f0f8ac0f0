"""Vault: round trips, weak and wrong keys, keyfile creation, and atomic rotation."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import key_text
from studio_tui.services.catalog import Catalog
from studio_tui.services.errors import VaultError, WeakKeyError, WrongKeyError
from studio_tui.services.keys import KEY_CHECK, rotate, unlock
from studio_tui.services.platform.sqlite_store import SqliteCatalogStore
from studio_tui.services.vault import KeyMaterial, Vault, parse_key_text

URLS = ["redis://:p%40ss@cache:6379/0", "postgresql://app:hunter2@db:5432/shop",
        "mongodb://root:tr0ub4dor@mongo:27017/?directConnection=true"]


@given(st.text(min_size=0, max_size=300), st.text(min_size=1, max_size=40))
@settings(max_examples=100, deadline=None)
def test_encrypt_decrypt_round_trips_any_text(plaintext: str, context: str):
    vault = Vault(KeyMaterial(os.urandom(32), "test"))
    token = vault.encrypt(plaintext, context)
    assert vault.encrypt(plaintext, context) != token  # a fresh nonce every time
    if len(plaintext) >= 8:
        assert plaintext not in token
    assert vault.decrypt(token, context) == plaintext


def test_a_token_is_bound_to_its_row():
    vault = Vault(KeyMaterial(os.urandom(32), "test"))
    token = vault.encrypt(URLS[0], "row-a")
    with pytest.raises(WrongKeyError):
        vault.decrypt(token, "row-b")


@pytest.mark.parametrize("text, reason", [
    ("SAMPLE_KEY", "well-known default"),
    ("sample_key", "well-known default"),
    ("not base64 at all!", "not valid base64"),
    (base64.b64encode(bytes(range(16))).decode(), "is 16 bytes"),
    (base64.b64encode(b"\x00" * 32).decode(), "repeating byte pattern"),
    (base64.b64encode(b"ab" * 16).decode(), "repeating byte pattern"),
    (base64.b64encode(bytes(range(48))).decode(), "expected exactly 32"),
])
def test_weak_keys_are_refused_naming_the_source(text: str, reason: str):
    with pytest.raises(WeakKeyError) as caught:
        parse_key_text(text, "STUDIO_TUI_KEY")
    assert reason in str(caught.value)
    assert "STUDIO_TUI_KEY" in str(caught.value)


async def test_first_unlock_creates_a_private_keyfile(tmp_path: Path, store: SqliteCatalogStore):
    key_path = tmp_path / "data" / "key"
    vault = await unlock(store, key_path, {})
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert vault.source == f"keyfile {key_path}"
    assert vault.matches(await store.get_meta(KEY_CHECK))
    again = await unlock(store, key_path, {})
    assert again.material.key == vault.material.key


async def test_group_readable_keyfile_is_refused(tmp_path: Path, store: SqliteCatalogStore):
    key_path = tmp_path / "key"
    await unlock(store, key_path, {})
    key_path.chmod(0o644)
    with pytest.raises(VaultError, match="chmod 600"):
        await unlock(store, key_path, {})


async def test_wrong_key_names_its_source_and_changes_nothing(tmp_path: Path,
                                                               store: SqliteCatalogStore):
    right = key_text()
    vault = await unlock(store, tmp_path / "key", {"STUDIO_TUI_KEY": right})
    catalog = Catalog(store, vault)
    org = await catalog.create_organization("o")
    project = await catalog.create_project(org.id, "p")
    entry = await catalog.add_database(project.id, "db", URLS[1])
    check_before = await store.get_meta(KEY_CHECK)

    with pytest.raises(WrongKeyError) as caught:
        await unlock(store, tmp_path / "key", {"STUDIO_TUI_KEY": key_text()})
    assert "STUDIO_TUI_KEY" in str(caught.value)
    assert await store.get_meta(KEY_CHECK) == check_before
    assert (await store.get_database(entry.id)).url_token == entry.url_token
    assert not (tmp_path / "key").exists()  # an env key never writes a keyfile


async def test_missing_keyfile_for_an_encrypted_catalog_is_an_error(tmp_path: Path,
                                                                     store: SqliteCatalogStore):
    await unlock(store, tmp_path / "key", {})
    (tmp_path / "key").unlink()
    with pytest.raises(WrongKeyError, match="is missing"):
        await unlock(store, tmp_path / "key", {})
    assert not (tmp_path / "key").exists()


async def _catalog_with_secrets(store, key_path: Path, env=None) -> tuple[Catalog, list[str]]:
    vault = await unlock(store, key_path, env or {})
    catalog = Catalog(store, vault)
    org = await catalog.create_organization("o")
    project = await catalog.create_project(org.id, "p")
    ids = [(await catalog.add_database(project.id, f"db{i}", url)).id for i, url in enumerate(URLS)]
    return catalog, ids


async def _urls(store, key_path: Path, ids: list[str], env=None) -> list[str]:
    catalog = Catalog(store, await unlock(store, key_path, env or {}))
    return [catalog.database_url(await store.get_database(i)) for i in ids]


async def test_rotation_reencrypts_every_secret(tmp_path: Path, store: SqliteCatalogStore):
    key_path = tmp_path / "key"
    catalog, ids = await _catalog_with_secrets(store, key_path)
    old_key = key_path.read_text()
    report = await rotate(store, catalog.vault, key_path, {})
    assert report.secrets == 3
    assert key_path.read_text() != old_key
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert await _urls(store, key_path, ids) == URLS


async def test_crash_midway_through_rotation_leaves_the_old_key_valid(tmp_path: Path,
                                                                      store: SqliteCatalogStore):
    key_path = tmp_path / "key"
    catalog, ids = await _catalog_with_secrets(store, key_path)
    old_key = key_path.read_text()
    seen: list[str] = []

    def die_on_second_row(database_id: str) -> None:
        seen.append(database_id)
        if len(seen) == 2:
            raise KeyboardInterrupt  # as abrupt as it gets inside the process

    with pytest.raises(KeyboardInterrupt):
        await rotate(store, catalog.vault, key_path, {}, rewrap_hook=die_on_second_row)
    assert key_path.read_text() == old_key
    assert not key_path.with_name("key.pending").exists()
    assert await _urls(store, key_path, ids) == URLS


async def test_crash_between_commit_and_keyfile_rename_is_recovered(tmp_path: Path,
                                                                    store: SqliteCatalogStore):
    key_path = tmp_path / "key"
    catalog, ids = await _catalog_with_secrets(store, key_path)
    old_key = key_path.read_text()

    def die() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        await rotate(store, catalog.vault, key_path, {}, after_commit=die)
    # The catalog is under the new key, which only the pending file holds…
    assert key_path.read_text() == old_key
    assert key_path.with_name("key.pending").exists()
    # …and the next unlock finishes the rotation instead of failing.
    assert await _urls(store, key_path, ids) == URLS
    assert key_path.read_text() != old_key
    assert not key_path.with_name("key.pending").exists()


async def test_leftover_pending_key_from_an_uncommitted_rotation_is_discarded(
        tmp_path: Path, store: SqliteCatalogStore):
    key_path = tmp_path / "key"
    _, ids = await _catalog_with_secrets(store, key_path)
    old_key = key_path.read_text()
    pending = key_path.with_name("key.pending")
    pending.write_text(key_text())
    pending.chmod(0o600)
    assert await _urls(store, key_path, ids) == URLS
    assert key_path.read_text() == old_key and not pending.exists()


async def test_rotation_with_an_environment_key_needs_the_new_key(tmp_path: Path,
                                                                  store: SqliteCatalogStore):
    old, new = key_text(), key_text()
    catalog, ids = await _catalog_with_secrets(store, tmp_path / "key", {"STUDIO_TUI_KEY": old})
    with pytest.raises(VaultError, match="STUDIO_TUI_NEW_KEY"):
        await rotate(store, catalog.vault, tmp_path / "key", {"STUDIO_TUI_KEY": old})
    await rotate(store, catalog.vault, tmp_path / "key",
                 {"STUDIO_TUI_KEY": old, "STUDIO_TUI_NEW_KEY": new})
    with pytest.raises(WrongKeyError, match="set STUDIO_TUI_KEY to that key"):
        await unlock(store, tmp_path / "key", {"STUDIO_TUI_KEY": old, "STUDIO_TUI_NEW_KEY": new})
    assert await _urls(store, tmp_path / "key", ids, {"STUDIO_TUI_KEY": new}) == URLS
