"""Bad input, settings files and keymaps: ``Settings.load`` on any settings.toml (garbage,
wrong types, non-finite numbers, deep nesting, megabytes) and any environment override, and
the [keys] remapping applied to every binding of the app (unknown ids, bad keys, duplicates).

Property: settings load with every value of its documented type, or a ConfigError names the
file and the setting; a keymap that loads never breaks the app's bindings or their display."""

from __future__ import annotations

import importlib
import json
import logging
import math
import pkgutil
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from textual.app import App
from textual.binding import BindingsMap

import studio_tui
from fuzz_checks import assert_specific, fuzz_settings
from studio_tui.services.errors import ConfigError
from studio_tui.services.settings import LOG_LEVELS, Settings

# TOML literals of every type, and keys a settings file may or may not know.
TOML_VALUES = st.one_of(
    st.text(max_size=12).map(lambda text: json.dumps(text)),  # a basic string
    st.integers(-10**20, 10**20).map(str),
    st.sampled_from(["nan", "inf", "-inf", "0.0", "-0.5", "1e308", "1e-320", "true", "false",
                     "[]", "[1, \"a\"]", "{}", "{ a = 1 }", "1979-05-27", "07:32:00",
                     "1979-05-27T07:32:00Z", '"debug"', '"INFO"', '"BASIC_FORMAT"', '"Handler"',
                     '"ctrl+s"', '"f5,ctrl+q"', '""', '" "', '",,"', '"a b"', '"\\u0000"',
                     '"nord"', '"postgresql://u:S3cr@h/db"', '":"']),
)
TABLES = ["ui", "connections", "logging", "catalog", "keys", "redis", "other"]
FIELDS = ["theme", "idle_timeout", "import_env", "check_on_list", "level", "platform_url",
          "delimiter", "app.quit", "dbs.test", "keys.up", "nosuch.id", "x", "quit", "A.B",
          "app..quit", "orgs.new"]


@st.composite
def settings_files(draw) -> str:
    lines = []
    for table in draw(st.lists(st.sampled_from(TABLES), unique=True, max_size=5)):
        lines.append(f"[{table}]")
        for name in draw(st.lists(st.sampled_from(FIELDS), unique=True, max_size=4)):
            lines.append(f"{json.dumps(name)} = {draw(TOML_VALUES)}")
    if draw(st.booleans()):
        lines.insert(0, f"{draw(st.sampled_from(TABLES))} = {draw(TOML_VALUES)}")
    return "\n".join(lines) + "\n"


def _write(home: Path, content: str | bytes) -> None:
    config = home / "config"
    config.mkdir(parents=True, exist_ok=True)
    path = config / "settings.toml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", errors="surrogatepass")


def _check_loaded(settings: Settings) -> None:
    assert isinstance(settings.theme, str)
    assert math.isfinite(settings.idle_timeout) and settings.idle_timeout > 0
    assert settings.log_level in LOG_LEVELS
    assert isinstance(getattr(logging, settings.log_level), int)
    assert isinstance(settings.import_env_databases, bool)
    assert isinstance(settings.check_on_list, bool)
    assert settings.platform_url is None or isinstance(settings.platform_url, str)
    assert isinstance(settings.redis_delimiter, str) and settings.redis_delimiter
    assert all(isinstance(k, str) and isinstance(v, str) and v for k, v in
               settings.keymap.items())


def _load(home: Path, env: dict[str, str] | None = None) -> Settings | None:
    try:
        settings = Settings.load({"STUDIO_TUI_HOME": str(home), **(env or {})})
    except Exception as error:  # noqa: BLE001 - the property: nothing but a ConfigError
        assert isinstance(error, ConfigError), f"{type(error).__name__}: {error}"
        assert_specific(error, "S3cr")
        return None
    _check_loaded(settings)
    return settings


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz-settings")


def test_any_settings_file_loads_typed_or_is_refused(home: Path) -> None:
    @fuzz_settings(ci=300)
    @given(settings_files() | st.text(max_size=200) | st.binary(max_size=200))
    @example('[logging]\nlevel = "BASIC_FORMAT"\n')  # was a ValueError from logging.setLevel
    @example('[logging]\nlevel = "Handler"\n')  # was a TypeError from logging.setLevel
    @example("[catalog]\nplatform_url = 5\n")  # was an AttributeError when the studio opened
    @example('[connections]\nidle_timeout = nan\n')  # was accepted: never idle, never closed
    @example('[connections]\nimport_env = "false"\n')  # was True: bool("false")
    @example("[keys]\n\"app.quit\" = { a = 1 }\n")  # was the key "{'a': 1}"
    @example("a = " + "[" * 5000 + "]" * 5000)  # was a RecursionError from tomllib
    @example(b"\xff\xfe[ui]")
    def check(content: str | bytes) -> None:
        _write(home, content)
        _load(home)

    check()


def test_a_huge_settings_file_is_read_or_refused(home: Path) -> None:
    _write(home, "[keys]\n" + "".join(f'"x.k{i}" = "ctrl+{i % 10}"\n' for i in range(200_000)))
    settings = _load(home)
    assert settings is not None and len(settings.keymap) == 200_000
    _write(home, "[ui]\ntheme = \"" + "n" * 5_000_000 + "\"\n")
    assert _load(home) is not None


def test_a_settings_path_that_is_a_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "config" / "settings.toml").mkdir(parents=True)
    with pytest.raises(ConfigError, match="cannot be read"):
        Settings.load({"STUDIO_TUI_HOME": str(tmp_path)})


def test_any_environment_override_loads_or_is_refused(tmp_path: Path) -> None:
    @fuzz_settings(ci=200)
    @given(st.dictionaries(st.sampled_from(["STUDIO_TUI_IDLE_TIMEOUT", "STUDIO_TUI_LOG_LEVEL",
                                            "STUDIO_TUI_THEME", "STUDIO_PLATFORM_URL"]),
                           st.text(st.characters(blacklist_characters="\x00"), max_size=12)
                           | st.sampled_from(["nan", "inf", "-1", "0", "1e999", "warn", "debug"])))
    @example({"STUDIO_TUI_LOG_LEVEL": "BASIC_FORMAT"})
    @example({"STUDIO_TUI_IDLE_TIMEOUT": "inf"})
    def check(env: dict[str, str]) -> None:
        _load(tmp_path, env)

    check()


def _binding_groups() -> list[list]:
    """Every BINDINGS list of the app, its screens, dialogs and widgets."""
    groups = []
    for module_info in pkgutil.walk_packages(studio_tui.__path__, "studio_tui."):
        if ".services" in module_info.name or module_info.name.endswith("__main__"):
            continue
        module = importlib.import_module(module_info.name)
        for value in vars(module).values():
            if isinstance(value, type) and value.__module__ == module.__name__ and \
                    "BINDINGS" in vars(value):
                groups.append(list(value.BINDINGS))
    return groups


KEYS_TEXT = st.one_of(
    st.sampled_from(["q", "ctrl+s", "f5", "escape", "question_mark", "?", "ctrl+alt+shift+x",
                     "enter,space", "up", "j,k", "ctrl+!!", "ü", "😀", "super+hyper+meta+a",
                     "shift+", "+", "ctrl+", "tab", "a,a", "f99"]),
    st.text(max_size=10),
)
IDS = st.sampled_from(["app.quit", "app.help", "dbs.test", "orgs.new", "keys.up", "keys.down",
                       "help.close", "nosuch.binding", "app.command", "x.y.z"]) | st.text(max_size=10)


def test_any_keymap_loads_and_applies_to_every_binding(tmp_path: Path) -> None:
    groups = _binding_groups()
    assert len(groups) > 20  # the walk found the app's screens
    display = App()

    @fuzz_settings(ci=150)
    @given(st.dictionaries(IDS, KEYS_TEXT, max_size=6))
    @example({"app.quit": "q", "app.help": "q", "dbs.test": "q"})  # duplicates
    @example({"nosuch.binding": "f5"})  # unknown id
    @example({"app.quit": "ctrl+!!,shift+,+"})
    @example({"app.quit": ","})
    @example({"app.quit": "a b"})
    def check(keymap: dict[str, str]) -> None:
        text = "[keys]\n" + "".join(f"{json.dumps(k)} = {json.dumps(v)}\n"
                                    for k, v in keymap.items())
        _write(tmp_path, text)
        settings = _load(tmp_path)
        if settings is None:
            return
        for bindings in groups:
            bindings_map = BindingsMap(bindings)
            bindings_map.apply_keymap(settings.keymap)
            for key, applied in bindings_map.key_to_bindings.items():
                for binding in applied:
                    assert isinstance(display.get_key_display(binding), str), (key, binding)

    check()


async def test_the_app_runs_with_a_hostile_keymap(tmp_path: Path) -> None:
    """Unknown ids, a key taken by three bindings, odd key names: the app starts, the help
    lists the keys, and the remapped key still works."""
    from studio_tui.dialogs.help import HelpModal
    from ui import QUIET_SETTINGS, settle, studio_app

    keymap = ('[keys]\n"nosuch.binding" = "f5"\n"app.help" = "f1,ctrl+!!"\n'
              '"orgs.new" = "q"\n"app.command" = "q"\n"keys.down" = "j,down"\n')
    app = studio_app(tmp_path, QUIET_SETTINGS + keymap)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("j", "q", "escape", "f1")
        await settle(pilot)
        assert isinstance(app.screen, HelpModal), "the help did not open on f1"
        assert app.screen.query_one("#keys").row_count > 5
        await pilot.press("escape")
        await settle(pilot)
        assert app.is_running and app.fatal_error is None
