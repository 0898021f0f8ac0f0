"""Text handed to the user's own editor ($VISUAL, $EDITOR) and back, for any kind of value: the
file suffix says what it is (.txt, .json, .sql); text that could not be saved is kept on disk."""

from __future__ import annotations

import asyncio
import shlex
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import SuspendNotSupported

if TYPE_CHECKING:
    from studio_tui.app import StudioApp


class EditorNotStarted(Exception):
    """The editor could not be run; the message says which one, why, and what to set."""


def editor_command(env: Mapping[str, str]) -> list[str]:
    for name in ("VISUAL", "EDITOR"):
        if env.get(name):
            return shlex.split(env[name])
    return [next((e for e in ("sensible-editor", "nano", "vi") if shutil.which(e)), "vi")]


async def edit_in_editor(app: "StudioApp", content: bytes, suffix: str) -> bytes:
    """``content`` after the user edited it: the app is suspended while the editor runs on a
    temporary file named with ``suffix``. Without a terminal to hand over (headless), the editor
    runs in a thread. Raises ``EditorNotStarted`` when it cannot be run."""
    command = editor_command(app.studio.env)
    try:
        with tempfile.TemporaryDirectory(prefix="studio-tui-") as folder:
            path = Path(folder) / f"value{suffix}"
            path.write_bytes(content)
            try:
                with app.suspend():
                    subprocess.run([*command, str(path)], check=False)
            except SuspendNotSupported:
                await asyncio.to_thread(subprocess.run, [*command, str(path)], check=False,
                                        stdin=subprocess.DEVNULL)
            return path.read_bytes()
    except OSError as error:
        raise EditorNotStarted(f"Could not start the editor {command[0]!r}: {error.strerror}. "
                               "Set $EDITOR.") from error


def keep_unsaved_copy(data_dir: Path, name: str, content: bytes, suffix: str) -> Path:
    """Text the user saved in the editor that could not be written, on disk under
    ``data_dir/unsaved`` (mode 0600) so not even a crash loses it; ``name`` goes into the file
    name, made safe."""
    folder = data_dir / "unsaved"
    folder.mkdir(parents=True, exist_ok=True)
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:60]
    path = folder / f"{time.strftime('%Y%m%d-%H%M%S')}-{safe}{suffix}"
    path.touch(mode=0o600)
    path.write_bytes(content)
    return path
