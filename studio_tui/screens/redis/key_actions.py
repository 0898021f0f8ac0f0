"""What the Redis browser's whole-key keys do: delete the selected or the marked keys (d), set a
TTL (T), rename (R), create a key (N), delete by pattern (D), combine sets (S), and copy a key's
name (y). Each write asks first, or takes a form that stays open with the user's input when the
write is refused."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from studio_tui.dialogs.fields import Field
from studio_tui.dialogs.name import NameModal
from studio_tui.dialogs.redis.bulk_delete import RedisBulkDeleteModal
from studio_tui.screens.redis.actions import ActionContext, WriteActions
from studio_tui.services.errors import ValidationError
from studio_tui.services.redis.bulk import SET_OPERATIONS, describe_keys, set_algebra
from studio_tui.services.redis.edits import CREATABLE_TYPES
from studio_tui.services.redis.keys import display_key, key_label, parse_key
from studio_tui.widgets.redis.key_list import KeyList, format_bytes, ttl_seconds


def _ttl_seconds(text: str) -> int | None:
    """What a TTL field says: whole seconds, or None (empty) for no expiry."""
    text = text.strip()
    if text and not text.isdigit():
        raise ValidationError("A TTL is a whole number of seconds, or empty for none.",
                              field_errors={"ttl": "seconds"})
    return int(text) if text else None


def _word(key: bytes) -> str:
    """A key as one word of a space-separated field (its spaces escaped)."""
    return display_key(key).replace(" ", "\\x20")


@dataclass(frozen=True, slots=True)
class KeyScope:
    """The keys the actions act on, as the browser has them now."""

    keys: KeyList  # the selected key, the marked ones, and the rows to update after a write
    database: str  # the entry's name, for confirmations
    shown: tuple[bytes, str] | None  # the key whose value is on show, and its type
    pattern: str  # the scan's pattern, as typed
    type_: str | None  # the scan's type filter
    rescan: Callable[[], None]
    show_members: Callable[[str, list[bytes], int], None]  # a computed set, in the value pane
    copy: Callable[[str], None]  # to the terminal's clipboard
    reload: Callable[[bytes], None]  # the value pane, when it shows a key that changed


class KeyActions(WriteActions):
    def __init__(self, ctx: ActionContext, scope: KeyScope) -> None:
        super().__init__(ctx)
        self.scope = scope

    def perform(self, name: str) -> None:
        {"delete": self.delete, "ttl": self.set_ttl, "rename": self.rename,
         "create": self.create, "bulk_delete": self.bulk_delete,
         "set_algebra": self.set_algebra, "copy": self.copy_name}[name]()

    def copy_name(self) -> None:
        """The key's name, escaped as shown, to the terminal's clipboard (OSC 52; works over
        SSH where the terminal allows it)."""
        shown = self.scope.shown
        key = shown[0] if shown else self.scope.keys.selected_key
        if key is None:
            return
        self.scope.copy(display_key(key))
        self.ctx.say(f"Copied {key_label(key)} to the clipboard.")

    def delete(self) -> None:
        keys = self.scope.keys
        if keys.marked:
            self._delete_marked(keys.marked)
            return
        key = keys.selected_key
        if key is None:
            return
        info = keys.info(key)
        what = f"this {info.type} ({format_bytes(info.memory)})" if info else "this key"

        async def delete() -> str:
            await self.ctx.edits.delete([key])
            keys.remove(key)
            return f"Deleted {key_label(key)}."

        self.confirm(f"Delete {key_label(key)}?", f"UNLINK removes {what} from "
                     f"{self.scope.database} now. It cannot be undone.", delete)

    def _delete_marked(self, marked: list[bytes]) -> None:
        async def delete() -> str:
            deleted = await self.ctx.edits.delete(marked)
            self.scope.keys.remove_many(marked)
            return f"Deleted {deleted:,} of {len(marked):,} marked key(s)."

        self.confirm(f"Delete {len(marked):,} marked key(s)?",
                     f"UNLINK removes {describe_keys(marked, 5)} from {self.scope.database} now. "
                     "It cannot be undone.", delete)

    async def _refresh_info(self, key: bytes) -> None:
        self.scope.keys.set_infos(await self.ctx.service.key_infos([key]))

    def set_ttl(self) -> None:
        key = self.scope.keys.selected_key
        if key is None:
            return

        async def submit(text: str) -> str:
            text = text.strip()
            await self.ctx.edits.set_ttl(key, _ttl_seconds(text))
            await self._refresh_info(key)
            if self.scope.shown and self.scope.shown[0] == key:
                self.scope.reload(key)  # its TTL is on show there too
            return f"TTL of {key_label(key)} set to {text + ' s' if text else 'never expire'}."

        # Pre-filled with the TTL it has: an empty field means "never expire", so opening the
        # form and pressing enter must not quietly take an expiry away.
        info = self.scope.keys.info(key)
        current = str(max(1, ttl_seconds(info.ttl_ms))) if info is not None and info.ttl_ms > 0 else ""
        self.ctx.open(NameModal(f"TTL of {key_label(key)} in seconds (empty: never expire)",
                                submit, value=current, placeholder="e.g. 3600"), self.ctx.say)

    def rename(self) -> None:
        key = self.scope.keys.selected_key
        if key is None:
            return

        async def submit(text: str) -> str:
            new_key = parse_key(text)
            await self.ctx.edits.rename(key, new_key)
            self.scope.keys.replace(key, new_key)
            return f"Renamed to {key_label(new_key)}."

        self.ctx.open(NameModal(f"Rename {key_label(key)}", submit, value=display_key(key)),
                      self.ctx.say)

    def create(self) -> None:
        async def create(values: dict[str, str]) -> str:
            key = parse_key(values["key"])
            await self.ctx.edits.create(
                key, values["type"], value=parse_key(values["value"]),
                field=parse_key(values["field"]), score=values["score"] or "0",
                ttl=_ttl_seconds(values["ttl"]))
            self.scope.keys.append([key])
            await self._refresh_info(key)
            return f"Created {values['type']} {key_label(key)}."

        self.form("New key", [
            Field("key", "Key", placeholder="e.g. user:42 (\\xNN for bytes)"),
            Field("type", "Type", choices=CREATABLE_TYPES),
            Field("field", "Field", placeholder="hash field / stream field name"),
            Field("value", "Value", placeholder="value, first member or JSON"),
            Field("score", "Score", placeholder="zset only, default 0"),
            Field("ttl", "TTL", placeholder="seconds; empty: never expire"),
        ], create, save_label="Create",
            note="Redis keeps no empty collections, so a new key starts with one item.")

    def bulk_delete(self) -> None:
        def done(deleted: int | None) -> None:
            if deleted:
                self.ctx.say(f"Deleted {deleted:,} key(s).")
                self.scope.rescan()

        self.ctx.open(RedisBulkDeleteModal(self.ctx.service, self.scope.database,
                                           self.scope.pattern, self.scope.type_), done)

    def set_algebra(self) -> None:
        marked = self.scope.keys.marked
        shown = self.scope.shown
        selected = shown[0] if shown and shown[1] == "set" else None
        prefill = " ".join(_word(k) for k in marked) if marked else (
            _word(selected) + " " if selected else "")

        async def run(v: dict[str, str]) -> str:
            keys = [parse_key(k) for k in v["keys"].split()]
            store = parse_key(v["store"].strip()) if v["store"].strip() else None
            result = await set_algebra(self.ctx.edits, v["operation"], keys, store=store)
            if store is not None:
                return f"Stored {result.count:,} member(s) in {key_label(store)}."
            self.scope.show_members(f"{v['operation']} of {describe_keys(keys)}",
                                    result.members, result.count)
            return f"{v['operation'].capitalize()}: {result.count:,} member(s)."

        self.form("Set algebra", [
            Field("operation", "Operation", choices=list(SET_OPERATIONS)),
            Field("keys", "Sets", prefill,
                  placeholder="two or more set keys, space separated (or mark them)"),
            Field("store", "Store in", placeholder="optional: key to write the result to"),
        ], run, save_label="Run", note="difference = the first set minus the others.")
