"""The last few problems the user met, kept whole for the error view while the status line
shows each one short."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from studio_tui.services.errors import StudioError

KEPT = 20


@dataclass(frozen=True, slots=True)
class Problem:
    error: "StudioError"
    where: str  # the screen's breadcrumb when it happened
    at: float = field(default_factory=time.time)


class RecentProblems:
    def __init__(self, kept: int = KEPT) -> None:
        self._problems: deque[Problem] = deque(maxlen=kept)

    def add(self, error: "StudioError", where: str) -> None:
        self._problems.append(Problem(error, where))

    def newest_first(self) -> list[Problem]:
        return list(reversed(self._problems))

    def __len__(self) -> int:
        return len(self._problems)
