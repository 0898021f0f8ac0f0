"""Small UI state remembered between runs (the chosen theme, query histories), kept apart from
the user's own settings.toml so the app never rewrites a file a person edits. Histories hold
queries, which can hold data: the file is readable by its owner only."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)


class UiState:
    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> dict:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable %s: %s", self.path, exc)
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, key: str) -> object | None:
        return self._read().get(key)

    def set(self, key: str, value: object) -> None:
        data = self._read()
        data[key] = value
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_suffix(".tmp")
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w") as file:
                file.write(json.dumps(data, indent=2))
            os.chmod(temporary, 0o600)  # an older copy may have been made with a wider mode
            os.replace(temporary, self.path)
        except OSError as exc:
            log.warning("could not remember %s: %s", key, exc)
