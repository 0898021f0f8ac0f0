"""What every fuzz target asserts about a failure, and how many examples a target runs."""

from __future__ import annotations

import os
import re

from hypothesis import settings

from studio_tui.services.errors import StudioError

PROFILE = os.environ.get("STUDIO_FUZZ", "ci")

# A message that only repeats a Python repr or exception class tells the user nothing.
_GENERIC = re.compile(r"Traceback|^<[\w.]+ object at 0x|^(Unexpected )?[A-Z]\w*(Error|Exception)"
                      r"(: |$)|^Unexpected \w+ talking to|^None$")


def examples(ci: int) -> int:
    """``ci`` examples in the CI profile (real servers make each one cost), the profile's
    count (≥ 10,000) otherwise."""
    return ci if PROFILE == "ci" else settings().max_examples


def fuzz_settings(ci: int, **overrides) -> settings:
    return settings(max_examples=examples(ci), **overrides)


def assert_specific(error: BaseException, *secrets: str) -> None:
    """``error`` is a StudioError whose message is specific and carries none of ``secrets``."""
    assert isinstance(error, StudioError), f"{type(error).__name__} escaped: {error!r}"
    detail = error.detail.strip()
    assert detail, f"{type(error).__name__} without a message"
    assert not _GENERIC.search(detail), f"generic message: {detail!r}"
    shown = " ".join([str(error), *error.field_errors.values(), repr(error.to_problem())])
    for secret in secrets:
        if secret:
            assert secret not in shown, f"secret {secret!r} shown in {shown!r}"
