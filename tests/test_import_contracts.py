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
    present = {f"studio_tui.{layer}.{spec.package}": spec for spec in KINDS.values()
               for layer in LAYERS
               if importlib.util.find_spec(f"studio_tui.{layer}.{spec.package}") is not None}
    assert present, "no kind package found: the walk is wrong"
    for module, spec in present.items():
        contract = CONTRACTS.get(f"kinds-apart-{spec.package}")
        assert contract is not None, f"add a kinds-apart-{spec.package} contract"
        assert module in contract["source_modules"], \
            f"add {module} to kinds-apart-{spec.package}"
        for other in KINDS.values():
            if other is spec:
                continue
            # Each kind's packages are forbidden every other kind's adapter and driver library.
            needed = {other.driver.partition(":")[0]} | \
                {m.partition(".")[0] for m in other.driver_modules}
            missing = needed - set(contract["forbidden_modules"])
            assert not missing, f"{spec.package} may import {sorted(missing)}"
