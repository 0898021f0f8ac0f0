"""The service layer stays free of UI code, and start-up stays free of driver imports."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import studio_tui.services


def _modules_after_import(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys, json\n"
                          "print(json.dumps(sorted(sys.modules)))"],
                         capture_output=True, text=True, check=True).stdout
    return set(json.loads(out.strip().splitlines()[-1]))


def test_services_import_neither_textual_nor_rich():
    names = [m.name for m in pkgutil.walk_packages(studio_tui.services.__path__,
                                                   "studio_tui.services.")]
    assert "studio_tui.services.manager" in names  # the walk really found the package
    loaded = _modules_after_import("\n".join(f"import {name}" for name in names))
    ui = sorted(m for m in loaded if m.split(".")[0] in ("textual", "rich"))
    assert ui == [], f"services pulled in UI modules: {ui[:5]}"


def test_opening_the_app_module_imports_no_database_driver():
    loaded = _modules_after_import("import studio_tui.app")
    drivers = {"redis", "pymongo", "asyncpg", "httpx", "cryptography"}
    assert not drivers & {m.split(".")[0] for m in loaded}


def test_drivers_can_be_warmed_ahead_of_opening_a_database():
    loaded = _modules_after_import(
        "from studio_tui.services.kinds import warm_drivers\n"
        "from studio_tui.services.kinds import DatabaseKind\n"
        "warm_drivers([DatabaseKind.REDIS, DatabaseKind.POSTGRES])")
    roots = {m.split(".")[0] for m in loaded}
    assert {"redis", "asyncpg"} <= roots and "pymongo" not in roots
