"""Reference limits: per-tier pool sizes and timeouts, per-kind breaker thresholds and pool details."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from studio_tui.services.errors import ValidationError
from studio_tui.services.urls import DatabaseKind


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


BREAKER_CONFIGS: dict[DatabaseKind, BreakerConfig] = {
    DatabaseKind.POSTGRES: BreakerConfig(5.0, 0.50, 30.0, 10),
    DatabaseKind.MONGODB: BreakerConfig(10.0, 0.60, 45.0, 10),
    DatabaseKind.REDIS: BreakerConfig(1.0, 0.70, 15.0, 10),
}


@dataclass(frozen=True, slots=True)
class PoolDefaults:
    """Per-kind pool details that the tier table does not set."""

    acquire_timeout: float
    idle_timeout: float
    health_check_interval: float
    retries: int


POOL_DEFAULTS: dict[DatabaseKind, PoolDefaults] = {
    DatabaseKind.REDIS: PoolDefaults(acquire_timeout=10.0, idle_timeout=30.0,
                                     health_check_interval=30.0, retries=3),
    DatabaseKind.MONGODB: PoolDefaults(acquire_timeout=10.0, idle_timeout=30.0,
                                       health_check_interval=10.0, retries=0),
    DatabaseKind.POSTGRES: PoolDefaults(acquire_timeout=10.0, idle_timeout=30.0,
                                        health_check_interval=0.0, retries=0),
}


# Redis commands per second that a key walk may send, per tier; with SCAN COUNT 1000 each one
# covers about a thousand keys. A cap keeps a full scan of production out of its SLOWLOG and
# from starving it; None would mean no cap.
REDIS_OPS_CAP: dict[Tier, float | None] = {
    Tier.FREE: 500.0,
    Tier.STARTER: 1000.0,
    Tier.PRO: 2500.0,
    Tier.ENTERPRISE: 5000.0,
}
