"""The layer and kind rules of the package, as import contracts (pyproject's [tool.importlinter]),
and checks that the contracts cover every module and kind that exists."""

from __future__ import annotations

import importlib.util
import pkgutil
import tomllib
from pathlib import Path

from importlinter.cli import lint_imports

import studio_tui
from studio_tui.services.kinds import KINDS

ROOT = Path(__file__).resolve().parent.parent
CONTRACTS = {c["id"]: c for c in tomllib.loads((ROOT / "pyproject.toml").read_text())
             ["tool"]["importlinter"]["contracts"]}
LAYERS = ("services", "screens", "widgets", "dialogs")


def test_every_import_contract_is_kept():
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True,
                        no_logo=True) == 0


def test_services_are_forbidden_every_module_outside_them():
    outside = {f"studio_tui.{m.name}" for m in pkgutil.iter_modules(studio_tui.__path__)
               if m.name not in ("services", "__main__")}
    forbidden = set(CONTRACTS["services-stand-alone"]["forbidden_modules"])
    assert outside <= forbidden, f"add to services-stand-alone: {sorted(outside - forbidden)}"


def test_every_kind_package_is_kept_apart_from_the_other_kinds():
    contract = CONTRACTS["kinds-apart"]
    sources = set(contract["source_modules"])
    present = {f"studio_tui.{layer}.{spec.package}" for spec in KINDS.values() for layer in LAYERS
               if importlib.util.find_spec(f"studio_tui.{layer}.{spec.package}") is not None}
    assert present, "no kind package found: the walk is wrong"
    assert present <= sources, f"add to kinds-apart: {sorted(present - sources)}"
    for spec in KINDS.values():
        others = [s for s in KINDS.values() if s is not spec]
        mine = {m for m in sources if m.rsplit(".", 1)[1] == spec.package}
        if not mine:
            continue
        # Each kind's packages must be forbidden every other kind's driver adapter.
        for other in others:
            driver = other.driver.partition(":")[0]
            assert driver in contract["forbidden_modules"], f"{spec.package} may import {driver}"
