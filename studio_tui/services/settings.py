"""Where studio-tui keeps its files, and the settings read from settings.toml and the environment.

Precedence: environment > settings.toml > defaults. ``STUDIO_TUI_HOME`` puts every directory
under one folder (used by tests and by people who want a portable setup).
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from studio_tui.services.errors import ConfigError

APP_NAME = "studio-tui"
SETTINGS_FILE = "settings.toml"


def _default_dirs(env: Mapping[str, str]) -> tuple[Path, Path, Path]:
    home = env.get("STUDIO_TUI_HOME")
    if home:
        root = Path(home).expanduser()
        return root / "config", root / "data", root / "log"
    import platformdirs

    dirs = platformdirs.PlatformDirs(APP_NAME, appauthor=False)
    return Path(dirs.user_config_dir), Path(dirs.user_data_dir), Path(dirs.user_log_dir)


@dataclass(frozen=True)
class Settings:
    config_dir: Path
    data_dir: Path
    log_dir: Path
    # postgresql://… of a shared team catalog; None means the embedded SQLite file.
    platform_url: str | None = None
    idle_timeout: float = 300.0
    theme: str = "textual-dark"
    log_level: str = "INFO"
    keymap: dict[str, str] = field(default_factory=dict)
    import_env_databases: bool = True
    # Check every database's status when a database list opens (opens their pools).
    check_on_list: bool = True
    # What separates namespaces in Redis key names, for the tree view.
    redis_delimiter: str = ":"

    @property
    def settings_path(self) -> Path:
        return self.config_dir / SETTINGS_FILE

    @property
    def catalog_path(self) -> Path:
        return self.data_dir / "catalog.sqlite3"

    @property
    def key_path(self) -> Path:
        return self.data_dir / "key"

    @property
    def log_path(self) -> Path:
        return self.log_dir / "studio-tui.log"

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        config_dir, data_dir, log_dir = _default_dirs(env)
        settings = cls(config_dir=config_dir, data_dir=data_dir, log_dir=log_dir)
        settings = settings._with_file(settings.settings_path)
        return settings._with_env(env)

    def _with_file(self, path: Path) -> "Settings":
        if not path.exists():
            return self
        try:
            data = tomllib.loads(path.read_text())
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}.") from None
        except RecursionError:
            raise ConfigError(f"{path} is not valid TOML: arrays or tables nested too "
                              "deeply.") from None
        except OSError as exc:
            raise ConfigError(f"{path} cannot be read: {exc.strerror or exc}.") from None
        ui = _table(data, "ui", path)
        connections = _table(data, "connections", path)
        logging_ = _table(data, "logging", path)
        catalog = _table(data, "catalog", path)
        keys = _table(data, "keys", path)
        redis_table = _table(data, "redis", path)
        platform_url = catalog.get("platform_url", self.platform_url)
        if platform_url is not None:
            platform_url = _text(platform_url, "catalog.platform_url", path)
        return replace(
            self,
            theme=_text(ui.get("theme", self.theme), "ui.theme", path),
            idle_timeout=_number(connections.get("idle_timeout", self.idle_timeout),
                                 "connections.idle_timeout", path),
            log_level=_log_level(logging_.get("level", self.log_level), "logging.level", path),
            platform_url=platform_url,
            import_env_databases=_flag(connections.get("import_env", self.import_env_databases),
                                       "connections.import_env", path),
            check_on_list=_flag(connections.get("check_on_list", self.check_on_list),
                                "connections.check_on_list", path),
            redis_delimiter=_text(redis_table.get("delimiter", self.redis_delimiter),
                                  "redis.delimiter", path) or ":",
            keymap=_keymap(keys, path),
        )

    def _with_env(self, env: Mapping[str, str]) -> "Settings":
        changes: dict = {}
        if env.get("STUDIO_PLATFORM_URL"):
            changes["platform_url"] = env["STUDIO_PLATFORM_URL"]
        if env.get("STUDIO_TUI_THEME"):
            changes["theme"] = env["STUDIO_TUI_THEME"]
        if env.get("STUDIO_TUI_LOG_LEVEL"):
            changes["log_level"] = _log_level(env["STUDIO_TUI_LOG_LEVEL"],
                                              "STUDIO_TUI_LOG_LEVEL", None)
        if env.get("STUDIO_TUI_IDLE_TIMEOUT"):
            changes["idle_timeout"] = _number(env["STUDIO_TUI_IDLE_TIMEOUT"],
                                              "STUDIO_TUI_IDLE_TIMEOUT", None)
        return replace(self, **changes)


def _table(data: dict, name: str, path: Path) -> dict:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: [{name}] must be a table.")
    return value


def _where(path: Path | None) -> str:
    return f"{path}: " if path else ""


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


def _number(value: object, name: str, path: Path | None) -> float:
    try:
        if isinstance(value, bool):  # float(true) would be 1 second
            raise TypeError
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        raise ConfigError(f"{_where(path)}{name} must be a number of seconds, "
                          f"not {_shown(value)}.") from None
    if not math.isfinite(number) or number <= 0:
        raise ConfigError(f"{_where(path)}{name} must be a positive number of seconds, "
                          f"not {_shown(value)}.")
    return number


def _text(value: object, name: str, path: Path | None) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{_where(path)}{name} must be a string, not {_shown(value)}.")
    return value


def _flag(value: object, name: str, path: Path | None) -> bool:
    if not isinstance(value, bool):  # bool("false") is True
        raise ConfigError(f"{_where(path)}{name} must be true or false, not {_shown(value)}.")
    return value


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _log_level(value: object, name: str, path: Path | None) -> str:
    level = _text(value, name, path).strip().upper()
    if level not in LOG_LEVELS:
        raise ConfigError(f"{_where(path)}{name} must be one of {', '.join(LOG_LEVELS)}, "
                          f"not {_shown(value)}.")
    return level


# A binding id is "screen.action" (press ? in the app to see them); a key is Textual's name for
# it ("ctrl+s", "f5", "question_mark") or the character itself, several separated by commas.
_BINDING_ID = re.compile(r"[a-z_][a-z0-9_]*(\.[a-z0-9_]+)+\Z")


def _keymap(keys: dict, path: Path) -> dict[str, str]:
    keymap: dict[str, str] = {}
    for binding_id, value in keys.items():
        name = f"keys.{binding_id!r}" if len(binding_id) < 60 else "a [keys] entry"
        if not _BINDING_ID.match(binding_id):
            raise ConfigError(f"{path}: {name} is not a binding id; ids look like "
                              "\"app.quit\" (press ? in the app to see them).")
        text = _text(value, f"keys.{binding_id}", path)
        parts = [part.strip() for part in text.split(",")]
        bad = next((part for part in parts if not part or not part.isprintable()
                    or any(c.isspace() for c in part)), None)
        if bad is not None:
            raise ConfigError(f"{path}: keys.{binding_id} = {_shown(text)} holds "
                              f"{'an empty key' if not bad else 'a key with a blank or control character'}"
                              "; keys are names like \"ctrl+s\" or \"f5\", separated by commas.")
        keymap[binding_id] = ",".join(parts)
    return keymap
