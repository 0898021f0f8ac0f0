"""The Mongo browser's writes: edit in $EDITOR (conflict-checked, nothing lost), insert one or
many, duplicate, delete, update with operators and delete by filter (each showing how many
first), and in the tree, create and drop collections and databases."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from studio_tui.dialogs.confirm import ConfirmModal
from studio_tui.dialogs.fields import Field, FieldsModal
from studio_tui.dialogs.mongo.conflict import DocumentConflictModal
from studio_tui.external_editor import EditorNotStarted, edit_in_editor, keep_unsaved_copy
from studio_tui.services.errors import StudioError, ValidationError
from studio_tui.services.mongo.edits import DocumentConflict, MongoEdits
from studio_tui.services.mongo.ejson import (
    check_editable,
    compact,
    field_path,
    from_editor_many,
    from_editor_text,
    to_editor_text,
    value_text,
    with_value,
)
from studio_tui.services.mongo.models import CollectionInfo, DatabaseInfo, SaveResult
from studio_tui.services.mongo.query import parse_query
from studio_tui.widgets.mongo.collection_tree import CollectionTree

if TYPE_CHECKING:
    from studio_tui.screens.mongo.browser import MongoBrowserScreen

INSERT_TEMPLATE = "// One document {…}, or an array of documents [{…}, {…}].\n{\n  \n}\n"
SAMPLE_SIZE = 3


class DocumentActions:
    """Each action starts a worker on the screen; nothing here blocks the event loop."""

    def __init__(self, screen: "MongoBrowserScreen") -> None:
        self.screen = screen
        self.edits = MongoEdits(screen.service)

    @property
    def service(self):
        return self.screen.service

    def perform(self, name: str) -> None:
        screen = self.screen
        if isinstance(screen.focused, CollectionTree) and name in ("insert", "delete"):
            (self.create_collection if name == "insert" else self.drop)()
            return
        if screen.collection is None:
            screen.say("Choose a collection first (enter in the tree).")
            return
        if screen.collection.type == "view":
            screen.say("A view is read-only: write to the collection it is defined on.")
            return
        getattr(self, name)()

    def _start(self, work, description: str) -> None:
        self.screen.run_worker(work, group="mongo-write", exclusive=True, exit_on_error=False,
                               description=description)

    def _selected(self) -> tuple[int, dict] | None:
        index = self.screen.selected_index()
        if index is None:
            self.screen.say("No document selected.")
            return None
        document = self.screen.documents[index]
        if "_id" not in document:
            self.screen.say("This view of the document has no _id (see the projection), so it "
                            "cannot be found again to change it.")
            return None
        return index, document

    @property
    def _namespace(self) -> tuple[str, str]:
        return self.screen.database, self.screen.collection.name

    async def _write_then_reload(self, write: Awaitable[Any], said: Callable[[Any], str]) -> None:
        """A write to many documents: its error shown, or ``said(its result)`` and the query
        run again (what it changed is on screen)."""
        try:
            result = await write
        except StudioError as error:
            self.screen.show_error(error)
            return
        self.screen.say(said(result))
        self.screen.run_query()

    def _keep(self, key: tuple, text: str, loaded: Any, name: str) -> str:
        self.screen.unsaved[key] = (text, loaded)
        path = keep_unsaved_copy(self.screen.studio.settings.data_dir, name, text.encode(),
                                 ".json")
        return str(path)

    # -- one document -----------------------------------------------------------------------------
    def edit(self) -> None:
        """In the tree, on a value: that field in a form; anywhere else: the document."""
        row = self.screen.field_under_cursor()
        if row is None:
            self.editor()
        elif self.screen.find_query.projection:
            self.screen.say("With a projection the document is partial: E edits it whole.")
        else:
            self._edit_field(row)

    def editor(self) -> None:
        selected = self._selected()
        if selected is not None:
            self._start(self._edit(*selected), "edit document")

    def _edit_field(self, row) -> None:
        screen = self.screen
        database, collection = self._namespace
        index = int(row.path[0])
        document = screen.documents[index]
        if "_id" not in document:
            screen.say("This document has no _id, so it cannot be found again to change it.")
            return
        label = field_path(list(row.path[1:]))
        try:
            check_editable(screen.outline.value(row.path), label)
        except ValidationError as error:
            screen.show_error(error)
            return

        async def save(values: dict[str, str]) -> SaveResult:
            if not values["value"].strip():
                raise ValidationError(f"{label}: write a value (null for none).",
                                      field_errors={"value": "required"})
            value = parse_query(values["value"], label)
            loaded = screen.documents[index]  # the version on screen now
            edited = await asyncio.to_thread(with_value, loaded, row.path[1:], value)
            try:
                return await self.edits.save(database, collection, loaded, edited)
            except DocumentConflict as conflict:
                if conflict.current is None:
                    raise
                # Both versions side by side, over the form that keeps the typed value; what
                # is stored now goes on screen, and saving again puts the value over it.
                mine = await asyncio.to_thread(to_editor_text, edited)
                stored = await asyncio.to_thread(to_editor_text, conflict.current)
                kept = keep_unsaved_copy(screen.studio.settings.data_dir,
                                         f"{compact(document['_id'], 60)}-{label}",
                                         mine.encode(), ".json")
                screen.replace_document(index, conflict.current)
                screen.app.push_screen(DocumentConflictModal(
                    conflict.detail, mine, stored, str(kept),
                    then="close this view and save the form again to set your value on the "
                         "stored version."))
                raise DocumentConflict(f"{conflict.detail} The stored version is shown now: "
                                       "save again to set your value on it.") from None

        def saved(result: SaveResult | None) -> None:
            if result is not None:
                self._saved(index, label, result)

        screen.app.push_screen(FieldsModal(
            f"Edit {label} ({row.type})", [Field("value", "value",
                                                 value=value_text(screen.outline.value(row.path)))],
            save, note="Extended JSON or the shell's forms: 5, \"text\", NumberLong(5), "
                       "ISODate(\"2024-01-31\"), ObjectId(\"…\"). E edits the whole document."),
            saved)

    async def _edit(self, index: int, shown: dict) -> None:
        screen = self.screen
        database, collection = self._namespace
        label = compact(shown["_id"], 60)
        key = (database, collection, label)
        kept = screen.unsaved.pop(key, None)
        try:
            if kept is not None:
                text, loaded = kept  # the user's text again, over what is stored now
            else:
                loaded = await self.service.document(database, collection, shown["_id"])
                await asyncio.to_thread(check_editable, loaded)
                # A 16 MB document takes a moment to write out: off the event loop.
                text = await asyncio.to_thread(to_editor_text, loaded)
            edited_text = (await edit_in_editor(screen.studio_app, text.encode(), ".json")).decode(
                "utf-8", errors="replace")
        except EditorNotStarted as problem:
            if kept is not None:
                screen.unsaved[key] = kept
            screen.say(str(problem))
            return
        except StudioError as error:
            screen.show_error(error)
            return
        try:
            edited = await asyncio.to_thread(from_editor_text, edited_text)
            result = await self.edits.save(database, collection, loaded, edited)
        except DocumentConflict as conflict:
            current = conflict.current
            path = self._keep(key, edited_text, current if current is not None else loaded, label)
            screen.remember(conflict)
            screen.say(f"{conflict.title}: not saved; your edit is kept (e reopens it).")
            screen.app.push_screen(DocumentConflictModal(
                conflict.detail, edited_text,
                to_editor_text(current) if current is not None else None, path))
            return
        except StudioError as error:
            path = self._keep(key, edited_text, loaded, label)
            screen.show_error(error)
            screen.notify(f"{error.detail}\nYour text is kept in {path}; press e to reopen it.",
                          title=error.title, severity="error", timeout=15, markup=False)
            return
        self._saved(index, label, result)

    def _saved(self, index: int, label: str, result: SaveResult) -> None:
        if not result.written:
            self.screen.say("No change; nothing written.")
            return
        self.screen.replace_document(index, result.document)
        self.screen.say(f"Saved {label}.")

    def insert(self) -> None:
        self._start(self._insert(), "insert documents")

    async def _insert(self) -> None:
        screen = self.screen
        database, collection = self._namespace
        key = ("insert", database, collection)
        kept = screen.unsaved.pop(key, None)
        start = kept[0] if kept else INSERT_TEMPLATE
        try:
            text = (await edit_in_editor(screen.studio_app, start.encode(), ".json")).decode(
                "utf-8", errors="replace")
        except EditorNotStarted as problem:
            screen.say(str(problem))
            return
        if text.strip() in ("", INSERT_TEMPLATE.strip()):
            screen.say("Nothing inserted.")
            return
        try:
            documents = from_editor_many(text)
            ids = await self.edits.insert(database, collection, documents)
        except StudioError as error:
            path = self._keep(key, text, None, f"insert-{collection}")
            screen.show_error(error)
            screen.notify(f"{error.detail}\nYour text is kept in {path}; press N to reopen it.",
                          title=error.title, severity="error", timeout=15, markup=False)
            return
        screen.say(f"Inserted {len(ids):,} document(s).")
        screen.run_query()

    def duplicate(self) -> None:
        selected = self._selected()
        if selected is not None:
            self._start(self._duplicate(selected[1]), "duplicate document")

    async def _duplicate(self, shown: dict) -> None:
        database, collection = self._namespace
        try:
            original = await self.service.document(database, collection, shown["_id"])
            new_id = await self.edits.duplicate(database, collection, original)
        except StudioError as error:
            self.screen.show_error(error)
            return
        self.screen.say(f"Duplicated as {compact(new_id, 60)}.")
        self.screen.run_query()

    def delete(self) -> None:
        marked = self.screen.marked_indexes()
        if marked:
            self._delete_marked(marked)
            return
        selected = self._selected()
        if selected is None:
            return
        index, document = selected
        label = compact(document["_id"], 60)

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._start(self._delete(index, document), "delete document")

        self.screen.app.push_screen(ConfirmModal(
            "Delete this document?", f"{'.'.join(self._namespace)}\n_id: {label}\n"
            f"{compact(document, 200)}"), confirmed)

    def _delete_marked(self, indexes: list[int]) -> None:
        documents = [self.screen.documents[index] for index in indexes]
        if any("_id" not in document for document in documents):
            self.screen.say("Marked documents without _id (see the projection) cannot be deleted.")
            return
        ids = [document["_id"] for document in documents]
        shown = "\n".join(f"  {compact(document, 66)}" for document in documents[:SAMPLE_SIZE])
        more = f"\n  … and {len(ids) - SAMPLE_SIZE:,} more" if len(ids) > SAMPLE_SIZE else ""

        def delete() -> Awaitable[None]:
            return self._write_then_reload(
                self.edits.delete_many(*self._namespace, {"_id": {"$in": ids}}),
                lambda deleted: f"Deleted {deleted:,} of {len(ids):,} marked document(s).")

        self.screen.app.push_screen(ConfirmModal(
            f"Delete the {len(ids):,} marked document(s)?",
            f"{'.'.join(self._namespace)}\n{shown}{more}"),
            lambda yes: yes and self._start(delete(), "delete marked documents"))

    async def _delete(self, index: int, document: dict) -> None:
        database, collection = self._namespace
        try:
            await self.edits.delete(database, collection, document["_id"])
        except StudioError as error:
            self.screen.show_error(error)
            return
        self.screen.remove_document(index)
        self.screen.say(f"Deleted {compact(document['_id'], 60)}.")

    # -- many documents ---------------------------------------------------------------------------
    def update(self) -> None:
        database, collection = self._namespace
        filter_ = self.screen.find_query.filter

        async def preview(values: dict[str, str]) -> tuple[Any, bool, int]:
            update = parse_query(values["update"], "update")
            if not update:
                raise ValidationError("update: write the change, e.g. {$set: {field: value}}",
                                      field_errors={"update": "required"})
            many = values["scope"] == "every match"
            # On a big collection the count takes a while: said under the form.
            self.screen.say("Counting the documents the filter matches…")
            count = (await self.service.count(database, collection, filter_)).value
            return update, many, count if many else min(count, 1)

        def previewed(result: tuple[Any, bool, int] | None) -> None:
            if result is None:
                return
            update, many, count = result
            if count == 0:
                self.screen.say("No document matches the filter; nothing to update.")
                return
            self.screen.app.push_screen(ConfirmModal(
                f"Update {count:,} document(s)?",
                f"{database}.{collection}\nfilter: {compact(filter_, 300)}\n"
                f"update: {compact(update, 300)}", confirm_label="Update"),
                lambda yes: self._start(self._update(update, many), "update documents") if yes
                else self.screen.say("Nothing updated."))

        self.screen.app.push_screen(FieldsModal(
            "Update the documents matching the filter",
            [Field("update", "update", placeholder="{$set: {field: value}}"),
             Field("scope", "apply to", choices=("every match", "first match"))],
            preview, save_label="Preview",
            note=f"filter: {compact(filter_, 200)} (the query bar's)"), previewed)

    def _update(self, update: Any, many: bool) -> Awaitable[None]:
        return self._write_then_reload(
            self.edits.update(*self._namespace, self.screen.find_query.filter, update, many=many),
            lambda counts: f"{counts[0]:,} matched, {counts[1]:,} modified.")

    def delete_many(self) -> None:
        self._start(self._delete_many_preview(), "count documents to delete")

    async def _delete_many_preview(self) -> None:
        screen = self.screen
        database, collection = self._namespace
        filter_ = screen.find_query.filter
        screen.say("Counting the documents the filter matches…")
        try:
            count = (await self.service.count(database, collection, filter_)).value
            sample = await self.service.sample(database, collection, filter_, SAMPLE_SIZE)
        except StudioError as error:
            screen.show_error(error)
            return
        if count == 0:
            screen.say("No document matches the filter; nothing to delete.")
            return
        lines = "\n".join(f"  {compact(document, 66)}" for document in sample)
        everything = "" if filter_ else "\nThe filter is empty: this deletes EVERY document."
        screen.app.push_screen(ConfirmModal(
            f"Delete {count:,} document(s)?",
            f"{database}.{collection}\nfilter: {compact(filter_, 300)}{everything}\n"
            f"for example:\n{lines}", type_to_confirm=str(count)),
            lambda yes: self._start(self._delete_many(filter_), "delete documents") if yes
            else screen.say("Nothing deleted."))

    async def _delete_many(self, filter_: dict) -> None:
        await self._write_then_reload(self.edits.delete_many(*self._namespace, filter_),
                                      lambda deleted: f"Deleted {deleted:,} document(s).")
        self.screen.load_estimate()

    # -- collections and databases ----------------------------------------------------------------
    def create_collection(self) -> None:
        node = self.screen.query_one(CollectionTree).highlighted
        database = node.database if isinstance(node, CollectionInfo) else \
            node.name if isinstance(node, DatabaseInfo) else ""

        async def create(values: dict[str, str]) -> tuple[str, str]:
            await self.edits.create_collection(values["database"], values["collection"])
            return values["database"], values["collection"]

        def created(result: tuple[str, str] | None) -> None:
            if result is not None:
                self.screen.say(f"Created {result[0]}.{result[1]}.")
                self.screen.load_databases()

        self.screen.app.push_screen(FieldsModal(
            "New collection (a new database is created with its first collection)",
            [Field("database", "database", value=database, placeholder="database"),
             Field("collection", "collection", placeholder="collection")], create,
            save_label="Create"), created)

    def drop(self) -> None:
        node = self.screen.query_one(CollectionTree).highlighted
        if isinstance(node, CollectionInfo):
            name, what = node.name, f"the {node.type} {node.database}.{node.name}"
            work = lambda: self.edits.drop_collection(node.database, node.name)  # noqa: E731
        elif isinstance(node, DatabaseInfo):
            name, what = node.name, f"the database {node.name} and every collection in it"
            work = lambda: self.edits.drop_database(node.name)  # noqa: E731
        else:
            self.screen.say("Highlight a database or a collection to drop.")
            return

        async def dropped() -> None:
            try:
                await work()
            except StudioError as error:
                self.screen.show_error(error)
                return
            if isinstance(node, CollectionInfo) and self.screen.collection == node:
                self.screen.collection = None
            self.screen.say(f"Dropped {what}.")
            self.screen.load_databases()

        self.screen.app.push_screen(ConfirmModal(
            f"Drop {name}?", f"This drops {what}, with its documents and indexes. It cannot "
            "be undone.", confirm_label="Drop", type_to_confirm=name),
            lambda yes: yes and self._start(dropped(), "drop"))
