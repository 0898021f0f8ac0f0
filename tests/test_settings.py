"""Settings: directories, settings.toml, environment overrides, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio_tui.services.errors import ConfigError
from studio_tui.services.settings import Settings


def test_home_puts_every_directory_under_one_folder(tmp_path: Path):
    settings = Settings.load({"STUDIO_TUI_HOME": str(tmp_path)})
    assert settings.config_dir == tmp_path / "config"
    assert settings.catalog_path == tmp_path / "data" / "catalog.sqlite3"
    assert settings.log_path.parent == tmp_path / "log"


def test_file_values_apply_and_environment_wins(tmp_path: Path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "settings.toml").write_text(
        '[ui]\ntheme = "nord"\n[connections]\nidle_timeout = 42\n[keys]\n"app.quit" = "x"\n'
    )
    settings = Settings.load({"STUDIO_TUI_HOME": str(tmp_path)})
    assert (settings.theme, settings.idle_timeout, settings.keymap) == ("nord", 42.0,
                                                                        {"app.quit": "x"})
    overridden = Settings.load({"STUDIO_TUI_HOME": str(tmp_path), "STUDIO_TUI_THEME": "gruvbox",
                                "STUDIO_TUI_IDLE_TIMEOUT": "7"})
    assert (overridden.theme, overridden.idle_timeout) == ("gruvbox", 7.0)


def test_malformed_settings_file_names_the_file(tmp_path: Path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "settings.toml").write_text("[ui\ntheme=")
    with pytest.raises(ConfigError, match="settings.toml is not valid TOML"):
        Settings.load({"STUDIO_TUI_HOME": str(tmp_path)})


def test_non_numeric_timeout_is_refused(tmp_path: Path):
    with pytest.raises(ConfigError, match="STUDIO_TUI_IDLE_TIMEOUT must be a number"):
        Settings.load({"STUDIO_TUI_HOME": str(tmp_path), "STUDIO_TUI_IDLE_TIMEOUT": "soon"})


def test_remembered_ui_state_is_readable_by_its_owner_only(tmp_path):
    from studio_tui.state import UiState

    path = tmp_path / "ui-state.json"
    path.write_text("{}")
    path.chmod(0o644)  # a copy written before histories were kept in it
    state = UiState(path)
    state.set("history", ["{secret: 1}"])
    assert path.stat().st_mode & 0o777 == 0o600
    assert state.get("history") == ["{secret: 1}"]
