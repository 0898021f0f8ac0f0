"""Reference limits: per-tier pool sizes and timeouts, and the shapes of the per-kind breaker and pool numbers (kept in kinds.py)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from studio_tui.services.errors import ValidationError


class Tier(StrEnum):
    FREE = "free"
    STARTER = "starter"
    PRO = "pro"
    ENTERPRISE = "enterprise"

    @classmethod
    def parse(cls, value: str) -> "Tier":
        try:
            return cls(value.strip().lower())
        except ValueError:
            names = ", ".join(t.value for t in cls)
            raise ValidationError(
                f"Unknown tier {value!r}; expected one of {names}.",
                field_errors={"tier": "unknown tier"},
            ) from None


@dataclass(frozen=True, slots=True)
class TierLimits:
    min_pool: int
    max_pool: int
    max_concurrent: int
    query_timeout: float
    connect_timeout: float


TIER_LIMITS: dict[Tier, TierLimits] = {
    Tier.FREE: TierLimits(2, 5, 20, 10.0, 5.0),
    Tier.STARTER: TierLimits(5, 10, 50, 30.0, 10.0),
    Tier.PRO: TierLimits(10, 50, 200, 60.0, 15.0),
    Tier.ENTERPRISE: TierLimits(20, 100, 500, 120.0, 30.0),
}


@dataclass(frozen=True, slots=True)
class BreakerConfig:
    """A breaker opens when, within ``window`` seconds, at least ``volume`` calls were made and
    at least ``threshold`` of them failed. After ``reset`` seconds one probe is let through."""

    call_timeout: float
    threshold: float
    reset: float
    volume: int
    window: float = 10.0


@dataclass(frozen=True, slots=True)
class PoolDefaults:
    """Per-kind pool details that the tier table does not set."""

    acquire_timeout: float
    idle_timeout: float
    health_check_interval: float
    retries: int
