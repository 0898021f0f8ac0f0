"""Where studio-tui keeps its files, and the settings read from settings.toml and the environment.

Precedence: environment > settings.toml > defaults. ``STUDIO_TUI_HOME`` puts every directory
under one folder (used by tests and by people who want a portable setup).
"""

from __future__ import annotations

import os
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
        ui = _table(data, "ui", path)
        connections = _table(data, "connections", path)
        logging_ = _table(data, "logging", path)
        catalog = _table(data, "catalog", path)
        keys = _table(data, "keys", path)
        redis_table = _table(data, "redis", path)
        return replace(
            self,
            theme=str(ui.get("theme", self.theme)),
            idle_timeout=_number(connections.get("idle_timeout", self.idle_timeout),
                                 "connections.idle_timeout", path),
            log_level=str(logging_.get("level", self.log_level)).upper(),
            platform_url=catalog.get("platform_url", self.platform_url),
            import_env_databases=bool(connections.get("import_env", self.import_env_databases)),
            check_on_list=bool(connections.get("check_on_list", self.check_on_list)),
            redis_delimiter=str(redis_table.get("delimiter", self.redis_delimiter)) or ":",
            keymap={str(k): str(v) for k, v in keys.items()},
        )

    def _with_env(self, env: Mapping[str, str]) -> "Settings":
        changes: dict = {}
        if env.get("STUDIO_PLATFORM_URL"):
            changes["platform_url"] = env["STUDIO_PLATFORM_URL"]
        if env.get("STUDIO_TUI_THEME"):
            changes["theme"] = env["STUDIO_TUI_THEME"]
        if env.get("STUDIO_TUI_LOG_LEVEL"):
            changes["log_level"] = env["STUDIO_TUI_LOG_LEVEL"].upper()
        if env.get("STUDIO_TUI_IDLE_TIMEOUT"):
            changes["idle_timeout"] = _number(env["STUDIO_TUI_IDLE_TIMEOUT"],
                                              "STUDIO_TUI_IDLE_TIMEOUT", None)
        return replace(self, **changes)


def _table(data: dict, name: str, path: Path) -> dict:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: [{name}] must be a table.")
    return value


def _number(value: object, name: str, path: Path | None) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        where = f"{path}: " if path else ""
        raise ConfigError(f"{where}{name} must be a number of seconds, not {value!r}.") from None
    if number <= 0:
        raise ConfigError(f"{name} must be positive.")
    return number
