"""What the value keys do for each Redis type: e edits the item under the cursor (a string in a
one-line form), n adds one, x removes it, I increments it, f filters the value and E opens a
string or JSON document in $EDITOR. ``VALUE_ACTIONS`` is the table; a type it lacks gets the
defaults, which only say what applies."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from studio_tui.dialogs.fields import Field, SubmitFields
from studio_tui.external_editor import EditorNotStarted, keep_unsaved_copy
from studio_tui.screens.redis.actions import ActionContext, WriteActions
from studio_tui.services.errors import ConflictError, StudioError, ValidationError
from studio_tui.services.redis.keys import display_key, key_label, parse_key

EDITOR_LIMIT = 16 << 20  # bytes; bigger strings are paged in the viewer, not edited whole
INLINE_LIMIT = 64 << 10  # the one-line form edits strings up to this size

# What I, f and E say when they do not apply; e, n and x say nothing.
NO_INCREMENT = "Increments apply to hash fields and zset scores."
NO_FILTER = "Filters apply to hashes and sets (pattern) and zsets (score range)."
NO_EDITOR = "$EDITOR opens strings and JSON documents; select one first."
NOTHING_SHOWN = {"increment": NO_INCREMENT, "filter": NO_FILTER, "editor": NO_EDITOR}

Removal = tuple[str, Callable[[], Awaitable[object]]]  # what goes, and the write removing it


@dataclass(frozen=True, slots=True)
class ShownValue:
    """The value on show, and how the browser shows it again."""

    key: bytes
    type_: str
    item: tuple[Any, ...] | None  # the full item under the value table's cursor
    filter: str  # the MATCH pattern or score range narrowing it now
    reload: Callable[[], object]  # show it again, the cursor on the same row
    set_filter: Callable[[str], None]  # the filter the next reload applies


async def _done(write: Awaitable[object], command: str) -> str:
    await write
    return f"{command} done."


class ValueActions(WriteActions):
    """A type with nothing of its own to edit, add, remove, increment or filter."""

    filter_by: ClassVar[str] = ""  # "pattern" (MATCH) or "score" (a min max range)
    increment_note: ClassVar[str] = ""  # how I increments (empty: it does not apply)

    def __init__(self, ctx: ActionContext, value: ShownValue) -> None:
        super().__init__(ctx)
        self.value = value
        self.key = value.key

    def perform(self, name: str) -> None:
        {"edit": self.edit, "editor": self.open_editor, "add": self.add, "remove": self.remove,
         "increment": self.increment, "filter": self.filter}[name]()

    def form(self, title: str, fields: list[Field], submit: SubmitFields, *,
             save_label: str = "Save", note: str = "") -> None:
        """A write form on the shown value: saved, the value is shown again."""
        async def apply(values: dict[str, str]) -> Any:
            try:
                message = await submit(values)
            except ConflictError as conflict:
                # Behind the form (which keeps the input), the pane shows the value as it is
                # now, so the next e starts from it rather than from the stale one.
                self.value.reload()
                conflict.detail = (f"{conflict.detail} The current value is loaded: esc, then "
                                   "e, edits it.")
                raise
            self.value.reload()
            return message

        super().form(title, fields, apply, save_label=save_label, note=note)

    def edit(self) -> None:
        if self.value.item is not None:
            self.edit_item(self.value.item)

    def edit_item(self, item: tuple[Any, ...]) -> None:
        self.ctx.say(f"A {self.value.type_} item is not edited in place: add a new one (n) and "
                     "remove the old (x).")

    def add(self) -> None:
        self.ctx.say(f"A {self.value.type_} has no items to add; e edits it.")

    def remove(self) -> None:
        removal = self.removal(self.value.item) if self.value.item is not None else None
        if removal is None:
            return
        what, remove = removal

        async def removed() -> str:
            await remove()
            self.value.reload()
            return f"Removed {what} from {key_label(self.key)}."

        self.confirm(f"Remove {what}?", f"From {self.value.type_} {key_label(self.key)}. It "
                     "cannot be undone.", removed, confirm_label="Remove")

    def removal(self, item: tuple[Any, ...]) -> Removal | None:
        return None

    def increment(self) -> None:
        item = self.value.item
        if not self.increment_note or item is None:
            self.ctx.say(NO_INCREMENT)
            return

        async def apply(v: dict[str, str]) -> str:
            return await self.incremented(item[0], v["amount"])

        self.form(f"Increment {key_label(item[0])}", [Field("amount", "By", "1")], apply,
                  save_label="Increment", note=self.increment_note)

    async def incremented(self, name: bytes, amount: str) -> str:
        """Add ``amount`` to the item called ``name``; says what it is now."""
        raise NotImplementedError

    def filter(self) -> None:
        if not self.filter_by:
            self.ctx.say(NO_FILTER)
            return
        by_score = self.filter_by == "score"

        async def apply(v: dict[str, str]) -> str:
            text = v["filter"].strip()
            if by_score and text:
                low, _, high = text.partition(" ")
                await self.ctx.service.zset_by_score(self.key, low, high.strip() or "+inf",
                                                     count=1)
            self.value.set_filter(text)
            return f"Showing {'scores ' if by_score else 'items matching '}{text}." if text \
                else "Filter cleared."

        self.form("Scores from min to max" if by_score else "Items matching a pattern",
                  [Field("filter", "Filter", self.value.filter,
                         placeholder="e.g. 10 (20   ( excludes, -inf/+inf"
                         if by_score else "e.g. user:*")], apply, save_label="Apply")

    def open_editor(self) -> None:
        self.ctx.say(NO_EDITOR)


class EditorValueActions(ValueActions):
    """A value edited whole in $EDITOR (E), written only if nobody changed it meanwhile; text
    that could not be written is kept, in memory and on disk, and reopened by the next E."""

    async def read(self) -> bytes:
        raise NotImplementedError

    def text_for_editor(self, current: bytes) -> bytes:
        return current

    def unchanged(self, edited: bytes, current: bytes) -> bool:
        return edited == current

    async def write(self, edited: bytes, current: bytes) -> None:
        raise NotImplementedError

    def open_editor(self) -> None:
        self.run(self._edit_in_editor(), group="redis-editor", exclusive=True)

    async def _edit_in_editor(self) -> str:
        current = await self.read()
        start = self.ctx.unsaved.pop(self.key, None) or self.text_for_editor(current)
        try:
            edited = await self.ctx.editor(start, ".txt")
        except EditorNotStarted as problem:
            return str(problem)
        if self.unchanged(edited, current):
            return "No change; nothing written."
        try:
            await self.write(edited, current)
        except StudioError as error:
            self.ctx.unsaved[self.key] = edited
            kept = keep_unsaved_copy(self.ctx.data_dir, display_key(self.key), edited, ".txt")
            self.ctx.notify(f"{error.detail}\nA copy is in {kept}. Press E to reopen your "
                            "text.", title=error.title, severity="error", timeout=15, markup=False)
            return f"{error.title}: not saved. Your text is kept."
        self.value.reload()
        return f"Saved {len(edited):,} bytes to {key_label(self.key)}."


class StringActions(EditorValueActions):
    async def read(self) -> bytes:
        return await self.ctx.service.string_value(self.key, limit=EDITOR_LIMIT)

    async def write(self, edited: bytes, current: bytes) -> None:
        await self.ctx.edits.string_set(self.key, edited, expected=current)

    def edit(self) -> None:
        """Small strings in a one-line form; bigger ones only in $EDITOR."""
        self.run(self._edit_inline())

    async def _edit_inline(self) -> str | None:
        key, edits = self.key, self.ctx.edits
        try:
            old = await self.ctx.service.string_value(key, limit=INLINE_LIMIT)
        except StudioError as error:
            return f"{error.detail} Press E to edit it in $EDITOR."
        self.form(f"Edit {key_label(key)}", [Field("value", "Value", display_key(old))],
                  lambda v: _done(edits.string_set(key, parse_key(v["value"]), expected=old),
                                  "SET"),
                  note="One line; \\n, \\t and \\xNN escapes stand for bytes. "
                       "E opens $EDITOR instead.")
        return None


class JsonActions(EditorValueActions):
    async def read(self) -> bytes:
        return await self.ctx.service.json_text(self.key, limit=EDITOR_LIMIT)

    def text_for_editor(self, current: bytes) -> bytes:
        return json.dumps(json.loads(current), indent=2, ensure_ascii=False).encode() + b"\n"

    def unchanged(self, edited: bytes, current: bytes) -> bool:
        try:
            return edited == current or json.loads(edited) == json.loads(current)
        except ValueError:
            return False

    async def write(self, edited: bytes, current: bytes) -> None:
        await self.ctx.edits.json_set(self.key, edited, expected=current)


class HashActions(ValueActions):
    filter_by = "pattern"
    increment_note = "Integers use HINCRBY, decimals HINCRBYFLOAT."

    def edit_item(self, item: tuple[Any, ...]) -> None:
        key, (field, old) = self.key, item
        self.form(f"{key_label(key)} › {key_label(field)}",
                  [Field("value", "Value", display_key(old))],
                  lambda v: _done(self.ctx.edits.hash_set(
                      key, field, parse_key(v["value"]), expected=old), "HSET"))

    def add(self) -> None:
        self.form(f"New field in {key_label(self.key)}",
                  [Field("field", "Field"), Field("value", "Value")],
                  lambda v: _done(self.ctx.edits.hash_set(
                      self.key, parse_key(v["field"]), parse_key(v["value"]), expected=None),
                      "HSET"))

    def removal(self, item: tuple[Any, ...]) -> Removal:
        return (f"field {key_label(item[0])}",
                lambda: self.ctx.edits.hash_delete(self.key, item[0], expected=item[1]))

    async def incremented(self, name: bytes, amount: str) -> str:
        result = await self.ctx.edits.hash_increment(self.key, name, amount)
        return f"{key_label(name)} is now {key_label(result)}."


class ListActions(ValueActions):
    def edit_item(self, item: tuple[Any, ...]) -> None:
        key, (index, old) = self.key, item
        self.form(f"{key_label(key)} › [{index.decode()}]",
                  [Field("value", "Value", display_key(old))],
                  lambda v: _done(self.ctx.edits.list_set(
                      key, int(index), parse_key(v["value"]), expected=old), "LSET"))

    def add(self) -> None:
        key, item, edits = self.key, self.value.item, self.ctx.edits
        places = ["tail", "head"] + (["before selected", "after selected"] if item else [])

        async def push(v: dict[str, str]) -> str:
            value = parse_key(v["value"])
            if v["where"] in ("head", "tail"):
                await edits.list_push(key, [value], head=v["where"] == "head")
                return f"{'LPUSH' if v['where'] == 'head' else 'RPUSH'} done."
            assert item is not None  # only offered with a selected element
            await edits.list_insert(key, int(item[0]), value, expected=item[1],
                                    before=v["where"] == "before selected")
            return "LINSERT done."

        self.form(f"New element in {key_label(key)}",
                  [Field("value", "Value"), Field("where", "Where", choices=places)], push)

    def removal(self, item: tuple[Any, ...]) -> Removal:
        return (f"element [{item[0].decode()}] = {key_label(item[1])[:60]}",
                lambda: self.ctx.edits.list_remove_at(self.key, int(item[0]), expected=item[1]))


class SetActions(ValueActions):
    filter_by = "pattern"

    def add(self) -> None:
        async def add_members(v: dict[str, str]) -> str:
            members = [parse_key(m) for m in v["members"].split()]
            added = await self.ctx.edits.set_add(self.key, members)
            return f"SADD added {added} new member(s)."

        self.form(f"Add to {key_label(self.key)}",
                  [Field("members", "Members", placeholder="space separated")], add_members)

    def removal(self, item: tuple[Any, ...]) -> Removal:
        return (f"member {key_label(item[0])}",
                lambda: self.ctx.edits.set_remove(self.key, item[0]))


class ZsetActions(ValueActions):
    filter_by = "score"
    increment_note = "ZINCRBY; negative decrements."

    def edit_item(self, item: tuple[Any, ...]) -> None:
        member, score = item
        self.form(f"Score of {key_label(member)}", [Field("score", "Score", score.decode())],
                  lambda v: _done(self.ctx.edits.zset_add(
                      self.key, member, v["score"], expected=float(score)), "ZADD"))

    def add(self) -> None:
        self.form(f"Add to {key_label(self.key)}",
                  [Field("member", "Member"), Field("score", "Score", "0")],
                  lambda v: _done(self.ctx.edits.zset_add(
                      self.key, parse_key(v["member"]), v["score"], expected=None), "ZADD"))

    def removal(self, item: tuple[Any, ...]) -> Removal:
        return (f"member {key_label(item[0])}", lambda: self.ctx.edits.zset_remove(
            self.key, item[0], expected=float(item[1])))

    async def incremented(self, name: bytes, amount: str) -> str:
        score = await self.ctx.edits.zset_increment(self.key, name, amount)
        return f"{key_label(name)} now scores {score!r}."


class StreamActions(ValueActions):
    def add(self) -> None:
        async def add_entry(v: dict[str, str]) -> str:
            pairs = [part.partition("=") for part in v["fields"].split()]
            if not pairs or any(not sep for _, sep, _ in pairs):
                raise ValidationError("Write fields as name=value, separated by spaces.",
                                      field_errors={"fields": "name=value"})
            entry_id = await self.ctx.edits.stream_add(
                self.key, {parse_key(n): parse_key(val) for n, _, val in pairs},
                entry_id=v["id"].strip().encode() or b"*")
            return f"XADD added {entry_id.decode()}."

        self.form(f"New entry in {key_label(self.key)}",
                  [Field("fields", "Fields", placeholder="name=value name2=value2"),
                   Field("id", "ID", "*")], add_entry)

    def removal(self, item: tuple[Any, ...]) -> Removal:
        return (f"entry {item[0].decode()}",
                lambda: self.ctx.edits.stream_delete(self.key, item[0]))


VALUE_ACTIONS: dict[str, type[ValueActions]] = {
    "string": StringActions,
    "hash": HashActions,
    "list": ListActions,
    "set": SetActions,
    "zset": ZsetActions,
    "stream": StreamActions,
    "ReJSON-RL": JsonActions,
}
