"""The shared $EDITOR helper: which editor runs, the file suffix it sees, a missing editor, and the
copy kept of text that could not be saved."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

from studio_tui.external_editor import (
    EditorNotStarted,
    edit_in_editor,
    editor_command,
    keep_unsaved_copy,
)
from ui import QUIET_SETTINGS, studio_app


def test_visual_wins_over_editor_and_arguments_are_split():
    assert editor_command({"VISUAL": "code --wait", "EDITOR": "vi"}) == ["code", "--wait"]
    assert editor_command({"EDITOR": "nano -w"}) == ["nano", "-w"]
    assert editor_command({})  # a fallback editor, whatever is installed


async def test_the_editor_edits_a_file_with_the_given_suffix(tmp_path: Path):
    editor = tmp_path / "editor.py"
    editor.write_text(
        f"#!{sys.executable}\n"
        "import pathlib, sys\n"
        "path = pathlib.Path(sys.argv[1])\n"
        "path.write_bytes(path.read_bytes().upper() + path.suffix.encode())\n")
    editor.chmod(editor.stat().st_mode | stat.S_IXUSR)
    app = studio_app(tmp_path, QUIET_SETTINGS, EDITOR=str(editor))
    async with app.run_test():
        assert await edit_in_editor(app, b"select 1", ".sql") == b"SELECT 1.sql"
        assert await edit_in_editor(app, b"{}", ".json") == b"{}.json"


async def test_a_missing_editor_says_which_and_what_to_set(tmp_path: Path):
    app = studio_app(tmp_path, QUIET_SETTINGS, EDITOR=str(tmp_path / "no-such-editor"))
    async with app.run_test():
        with pytest.raises(EditorNotStarted, match="no-such-editor.*Set \\$EDITOR"):
            await edit_in_editor(app, b"text", ".txt")


def test_unsaved_text_is_kept_private_under_a_safe_name(tmp_path: Path):
    kept = keep_unsaved_copy(tmp_path, "user:1/../profile", b"my text", ".json")
    assert kept.parent == tmp_path / "unsaved" and kept.suffix == ".json"
    assert kept.name.endswith("-user_1_.._profile.json")
    assert kept.read_bytes() == b"my text"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
