"""The Redis browser's writes, kept apart from its browsing: delete (one or the marked keys),
expire and rename keys; create keys; edit, add, remove and increment items of the value on
show; edit strings and JSON in $EDITOR; filter a value; and reach the bulk tools. Every write goes through ``RedisEdits``, which refuses conflicting and read-only
writes; the forms stay open with the user's input when that happens."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from textual import work
from textual.widgets import Input, Select

from studio_tui.dialogs.confirm import ConfirmModal
from studio_tui.dialogs.fields import Field, FieldsModal
from studio_tui.dialogs.name import NameModal
from studio_tui import external_editor
from studio_tui.services.errors import StudioError, ValidationError
from studio_tui.services.redis.bulk import SET_OPERATIONS, describe_keys, set_algebra
from studio_tui.services.redis.edits import CREATABLE_TYPES, RedisEdits
from studio_tui.services.redis.keys import display_key, parse_key
from studio_tui.widgets.redis.key_list import KeyList, format_bytes
from studio_tui.widgets.redis.value_panel import ValuePanel

if TYPE_CHECKING:
    from studio_tui.services.redis.service import RedisService

EDITOR_LIMIT = 16 << 20  # bytes; bigger strings are paged in the viewer, not edited whole
INLINE_LIMIT = 64 << 10  # the one-line form edits strings up to this size


def _pretty_json(text: bytes) -> bytes:
    return json.dumps(json.loads(text), indent=2, ensure_ascii=False).encode() + b"\n"


def _same_json(edited: bytes, current: bytes) -> bool:
    try:
        return json.loads(edited) == json.loads(current)
    except ValueError:
        return False


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


class RedisEditActions:
    """Mixed into ``RedisBrowserScreen``; relies on its ``service``, ``shown`` and
    ``load_value``."""

    service: "RedisService"
    shown: tuple[bytes, str] | None
    value_filter: str

    # Text the user saved in $EDITOR that could not be written (conflict or error): reopened
    # by the next E on that key instead of the server's value.
    _unsaved: dict[bytes, bytes]

    def _reload(self, key: bytes) -> None:
        panel = self.query_one(ValuePanel)  # type: ignore[attr-defined]
        self.load_value(key, keep_row=panel.items.cursor_row)  # type: ignore[attr-defined]

    def _form(self, title: str, fields: list[Field], submit, *, reload: bool = True,
              **options) -> None:
        """A form whose success message lands on the status line; by default the shown value is
        reloaded after it saved."""
        async def apply(values: dict[str, str]) -> str:
            message = await submit(values)
            if reload and self.shown is not None:
                self._reload(self.shown[0])
            return message

        self.app.push_screen(FieldsModal(title, fields, apply, **options),  # type: ignore
                             self.say)

    def _item(self) -> tuple[bytes, str, tuple] | None:
        """The shown key, its type and the item under the value table's cursor."""
        if self.shown is None:
            return None
        item = self.query_one(ValuePanel).selected_item()  # type: ignore[attr-defined]
        return (*self.shown, item) if item is not None else None

    # -- whole keys -----------------------------------------------------------------------------
    def _selected(self) -> bytes | None:
        return self.query_one(KeyList).selected_key  # type: ignore[attr-defined]

    def action_delete_key(self) -> None:
        keys = self.query_one(KeyList)
        if keys.marked:
            self._delete_marked(keys.marked)
            return
        key = self._selected()
        if key is None:
            return
        info = keys.info(key)
        what = f"this {info.type} ({format_bytes(info.memory)})" if info else "this key"
        self.app.push_screen(
            ConfirmModal(f"Delete {display_key(key)}?",
                         f"UNLINK removes {what} from {self.entry.name} now. It cannot be undone."),
            lambda confirmed: self._edit(self._delete(key)) if confirmed else None)

    def _delete_marked(self, marked: list[bytes]) -> None:
        from studio_tui.services.redis.bulk import describe_keys

        async def delete() -> str:
            deleted = await RedisEdits(self.service).delete(marked)
            self.query_one(KeyList).remove_many(marked)
            return f"Deleted {deleted:,} of {len(marked):,} marked key(s)."

        self.app.push_screen(
            ConfirmModal(f"Delete {len(marked):,} marked key(s)?",
                         f"UNLINK removes {describe_keys(marked, 5)} from {self.entry.name} now. "
                         "It cannot be undone."),
            lambda confirmed: self._edit(delete()) if confirmed else None)

    async def _delete(self, key: bytes) -> str:
        await RedisEdits(self.service).delete([key])
        self.query_one(KeyList).remove(key)
        return f"Deleted {display_key(key)}."

    def action_set_ttl(self) -> None:
        key = self._selected()
        if key is None:
            return

        async def submit(text: str) -> str:
            text = text.strip()
            await RedisEdits(self.service).set_ttl(key, _ttl_seconds(text))
            self.query_one(KeyList).set_infos(await self.service.key_infos([key]))
            return f"TTL of {display_key(key)} set to {text + ' s' if text else 'never expire'}."

        self.app.push_screen(NameModal(f"TTL of {display_key(key)} in seconds (empty: never "
                                       "expire)", submit, placeholder="e.g. 3600"),
                             self.say)

    def action_rename_key(self) -> None:
        key = self._selected()
        if key is None:
            return

        async def submit(text: str) -> str:
            new_key = parse_key(text)
            await RedisEdits(self.service).rename(key, new_key)
            self.query_one(KeyList).replace(key, new_key)
            return f"Renamed to {display_key(new_key)}."

        self.app.push_screen(NameModal(f"Rename {display_key(key)}", submit,
                                       value=display_key(key)), self.say)

    def _edit(self, change) -> None:
        async def run() -> None:
            try:
                self.say(await change)
            except StudioError as error:
                self.show_error(error)  # type: ignore[attr-defined]

        self.run_worker(run(), group="redis-edit", exit_on_error=False)  # type: ignore

    def action_new_key(self) -> None:
        edits = RedisEdits(self.service)

        async def create(values: dict[str, str]) -> str:
            key = parse_key(values["key"])
            await edits.create(key, values["type"], value=parse_key(values["value"]),
                               field=parse_key(values["field"]), score=values["score"] or "0",
                               ttl=_ttl_seconds(values["ttl"]))
            keys = self.query_one(KeyList)  # type: ignore[attr-defined]
            keys.append([key])
            keys.set_infos(await self.service.key_infos([key]))
            return f"Created {values['type']} {display_key(key)}."

        self._form("New key", [
            Field("key", "Key", placeholder="e.g. user:42 (\\xNN for bytes)"),
            Field("type", "Type", choices=CREATABLE_TYPES),
            Field("field", "Field", placeholder="hash field / stream field name"),
            Field("value", "Value", placeholder="value, first member or JSON"),
            Field("score", "Score", placeholder="zset only, default 0"),
            Field("ttl", "TTL", placeholder="seconds; empty: never expire"),
        ], create, reload=False, save_label="Create",
            note="Redis keeps no empty collections, so a new key starts with one item.")

    # -- items of the shown value ---------------------------------------------------------------
    def action_edit_item(self) -> None:
        if self.shown is not None and self.shown[1] == "string":
            self._edit_string_inline(self.shown[0])
            return
        target = self._item()
        if target is None:
            return
        key, type_, item = target
        edits = RedisEdits(self.service)
        if type_ == "hash":
            field, old = item
            self._form(f"{display_key(key)} › {display_key(field)}",
                       [Field("value", "Value", display_key(old))],
                       lambda v: self._saved(edits.hash_set(
                           key, field, parse_key(v["value"]), expected=old), "HSET"))
        elif type_ == "list":
            index, old = item
            self._form(f"{display_key(key)} › [{index.decode()}]",
                       [Field("value", "Value", display_key(old))],
                       lambda v: self._saved(edits.list_set(
                           key, int(index), parse_key(v["value"]), expected=old), "LSET"))
        elif type_ == "zset":
            member, score = item
            self._form(f"Score of {display_key(member)}", [Field("score", "Score",
                                                                 score.decode())],
                       lambda v: self._saved(edits.zset_add(
                           key, member, v["score"], expected=float(score)), "ZADD"))
        else:
            self.say(f"A {type_} item is not edited in place: add a new one (n) and remove the "
                      "old (x).")

    async def _saved(self, write, command: str) -> str:
        await write
        return f"{command} done."

    def _edit_string_inline(self, key: bytes) -> None:
        edits = RedisEdits(self.service)

        async def load() -> None:
            try:
                old = await self.service.string_value(key, limit=INLINE_LIMIT)
            except StudioError as error:
                self.say(f"{error.detail} Press E to edit it in $EDITOR.")
                return
            self._form(f"Edit {display_key(key)}", [Field("value", "Value", display_key(old))],
                       lambda v: self._saved(edits.string_set(
                           key, parse_key(v["value"]), expected=old), "SET"),
                       note="One line; \\n, \\t and \\xNN escapes stand for bytes. "
                            "E opens $EDITOR instead.")

        self.run_worker(load(), group="redis-edit", exit_on_error=False)  # type: ignore

    def action_add_item(self) -> None:
        if self.shown is None:
            return
        key, type_ = self.shown
        edits = RedisEdits(self.service)
        if type_ == "hash":
            async def add_field(v: dict[str, str]) -> str:
                await edits.hash_set(key, parse_key(v["field"]), parse_key(v["value"]),
                                     expected=None)
                return "HSET done."

            self._form(f"New field in {display_key(key)}",
                       [Field("field", "Field"), Field("value", "Value")], add_field)
        elif type_ == "list":
            item = self.query_one(ValuePanel).selected_item()  # type: ignore[attr-defined]
            places = ["tail", "head"] + (["before selected", "after selected"] if item else [])

            async def push(v: dict[str, str]) -> str:
                value = parse_key(v["value"])
                if v["where"] in ("head", "tail"):
                    await edits.list_push(key, [value], head=v["where"] == "head")
                    return f"{'LPUSH' if v['where'] == 'head' else 'RPUSH'} done."
                await edits.list_insert(key, int(item[0]), value, expected=item[1],
                                        before=v["where"] == "before selected")
                return "LINSERT done."

            self._form(f"New element in {display_key(key)}",
                       [Field("value", "Value"), Field("where", "Where", choices=places)], push)
        elif type_ == "set":
            async def add_member(v: dict[str, str]) -> str:
                members = [parse_key(m) for m in v["members"].split()]
                added = await edits.set_add(key, members)
                return f"SADD added {added} new member(s)."

            self._form(f"Add to {display_key(key)}",
                       [Field("members", "Members", placeholder="space separated")], add_member)
        elif type_ == "zset":
            self._form(f"Add to {display_key(key)}",
                       [Field("member", "Member"), Field("score", "Score", "0")],
                       lambda v: self._saved(edits.zset_add(
                           key, parse_key(v["member"]), v["score"], expected=None), "ZADD"))
        elif type_ == "stream":
            async def add_entry(v: dict[str, str]) -> str:
                pairs = [part.partition("=") for part in v["fields"].split()]
                if not pairs or any(not sep for _, sep, _ in pairs):
                    raise ValidationError("Write fields as name=value, separated by spaces.",
                                          field_errors={"fields": "name=value"})
                entry_id = await edits.stream_add(
                    key, {parse_key(n): parse_key(val) for n, _, val in pairs},
                    entry_id=v["id"].strip().encode() or b"*")
                return f"XADD added {entry_id.decode()}."

            self._form(f"New entry in {display_key(key)}",
                       [Field("fields", "Fields", placeholder="name=value name2=value2"),
                        Field("id", "ID", "*")], add_entry)
        else:
            self.say(f"A {type_} has no items to add; e edits it.")

    def action_remove_item(self) -> None:
        target = self._item()
        if target is None:
            return
        key, type_, item = target
        edits = RedisEdits(self.service)
        removals = {
            "hash": (f"field {display_key(item[0])}",
                     lambda: edits.hash_delete(key, item[0], expected=item[1])),
            "list": (f"element [{item[0].decode()}] = {display_key(item[1])[:60]}",
                     lambda: edits.list_remove_at(key, int(item[0]), expected=item[1])),
            "set": (f"member {display_key(item[0])}", lambda: edits.set_remove(key, item[0])),
            "zset": (f"member {display_key(item[0])}", lambda: edits.zset_remove(
                key, item[0], expected=float(item[1]))),
            "stream": (f"entry {item[0].decode()}", lambda: edits.stream_delete(key, item[0])),
        }
        if type_ not in removals:
            return
        what, remove = removals[type_]

        async def removed() -> str:
            await remove()
            self._reload(key)
            return f"Removed {what} from {display_key(key)}."

        self.app.push_screen(  # type: ignore[attr-defined]
            ConfirmModal(f"Remove {what}?", f"From {type_} {display_key(key)}. It cannot be "
                         "undone.", confirm_label="Remove"),
            lambda confirmed: self._edit(removed()) if confirmed else None)

    def action_increment(self) -> None:
        target = self._item()
        if target is None or target[1] not in ("hash", "zset"):
            self.say("Increments apply to hash fields and zset scores.")
            return
        key, type_, item = target
        edits = RedisEdits(self.service)

        async def apply(v: dict[str, str]) -> str:
            if type_ == "hash":
                result = await edits.hash_increment(key, item[0], v["amount"])
                return f"{display_key(item[0])} is now {display_key(result)}."
            score = await edits.zset_increment(key, item[0], v["amount"])
            return f"{display_key(item[0])} now scores {score!r}."

        self._form(f"Increment {display_key(item[0])}", [Field("amount", "By", "1")], apply,
                   save_label="Increment", note="Integers use HINCRBY, decimals HINCRBYFLOAT."
                   if type_ == "hash" else "ZINCRBY; negative decrements.")

    def action_filter_value(self) -> None:
        if self.shown is None or self.shown[1] not in ("hash", "set", "zset"):
            self.say("Filters apply to hashes and sets (pattern) and zsets (score range).")
            return
        key, type_ = self.shown
        by_score = type_ == "zset"

        async def apply(v: dict[str, str]) -> str:
            text = v["filter"].strip()
            if by_score and text:
                low, _, high = text.partition(" ")
                await self.service.zset_by_score(key, low, high.strip() or "+inf", count=1)
            self.value_filter = text
            return f"Showing {'scores ' if by_score else 'items matching '}{text}." if text \
                else "Filter cleared."

        self._form("Scores from min to max" if by_score else "Items matching a pattern",
                   [Field("filter", "Filter", self.value_filter,
                          placeholder="e.g. 10 (20   ( excludes, -inf/+inf"
                          if by_score else "e.g. user:*")], apply, save_label="Apply")

    # -- many keys ------------------------------------------------------------------------------
    def action_bulk_delete(self) -> None:
        from studio_tui.dialogs.redis.bulk_delete import RedisBulkDeleteModal

        pattern = self.query_one("#pattern", Input).value.strip() or "*"  # type: ignore
        type_value = self.query_one("#type", Select).value  # type: ignore[attr-defined]
        type_ = None if type_value is Select.NULL else str(type_value)

        def done(deleted: int | None) -> None:
            if deleted:
                self.say(f"Deleted {deleted:,} key(s).")
                self.start_scan()  # type: ignore[attr-defined]

        self.app.push_screen(RedisBulkDeleteModal(  # type: ignore[attr-defined]
            self.service, self.entry.name, pattern, type_), done)  # type: ignore

    def action_set_algebra(self) -> None:
        marked = self.query_one(KeyList).marked  # type: ignore[attr-defined]
        selected = self.shown[0] if self.shown and self.shown[1] == "set" else None
        prefill = " ".join(_word(k) for k in marked) if marked else (
            _word(selected) + " " if selected else "")

        async def run(v: dict[str, str]) -> str:
            keys = [parse_key(k) for k in v["keys"].split()]
            store = parse_key(v["store"].strip()) if v["store"].strip() else None
            result = await set_algebra(RedisEdits(self.service), v["operation"], keys,
                                       store=store)
            if store is not None:
                return f"Stored {result.count:,} member(s) in {display_key(store)}."
            self.query_one(ValuePanel).show_members(  # type: ignore[attr-defined]
                f"{v['operation']} of {describe_keys(keys)}", result.members, result.count)
            self.shown = None
            return f"{v['operation'].capitalize()}: {result.count:,} member(s)."

        self._form("Set algebra", [
            Field("operation", "Operation", choices=list(SET_OPERATIONS)),
            Field("keys", "Sets", prefill,
                  placeholder="two or more set keys, space separated (or mark them)"),
            Field("store", "Store in", placeholder="optional: key to write the result to"),
        ], run, reload=False, save_label="Run", note="difference = the first set minus the others.")

    # -- $EDITOR ------------------------------------------------------------------------------
    def action_open_editor(self) -> None:
        if self.shown is None or self.shown[1] not in ("string", "ReJSON-RL"):
            self.say("$EDITOR opens strings and JSON documents; select one first.")
            return
        self.edit_in_editor(*self.shown)

    @work(group="redis-editor", exclusive=True, exit_on_error=False, description="$EDITOR")
    async def edit_in_editor(self, key: bytes, type_: str) -> None:
        edits = RedisEdits(self.service)
        is_json = type_ == "ReJSON-RL"
        try:
            current = await (self.service.json_text(key, limit=EDITOR_LIMIT) if is_json
                             else self.service.string_value(key, limit=EDITOR_LIMIT))
        except StudioError as error:
            self.show_error(error)  # type: ignore[attr-defined]
            return
        start = self._unsaved.pop(key, None) or (_pretty_json(current) if is_json else current)
        try:
            edited = await external_editor.edit_in_editor(
                self.app, start, ".txt")  # type: ignore[arg-type]
        except external_editor.EditorNotStarted as problem:
            self.say(str(problem))
            return
        if edited == current or (is_json and _same_json(edited, current)):
            self.say("No change; nothing written.")
            return
        try:
            if is_json:
                await edits.json_set(key, edited, expected=current)
            else:
                await edits.string_set(key, edited, expected=current)
        except StudioError as error:
            self._unsaved[key] = edited
            kept = external_editor.keep_unsaved_copy(
                self.app.studio.settings.data_dir,  # type: ignore[attr-defined]
                display_key(key), edited, ".txt")
            self.say(f"{error.title}: not saved. Your text is kept.")
            self.notify(f"{error.detail}\nA copy is in {kept}. Press E to reopen your text.",
                        title=error.title, severity="error", timeout=15,  # type: ignore
                        markup=False)
            return
        self.say(f"Saved {len(edited):,} bytes to {display_key(key)}.")
        self._reload(key)
