"""Login rate limiting: a token bucket per account and per origin, and a lockout after a run of
failures. The state lives in the catalog (``update_login_bucket``, one locked read-modify-write),
so it survives a restart and holds across every instance sharing the catalog."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from studio_tui.services.errors import AuthenticationError
from studio_tui.services.platform.models import LoginBucket, email_key
from studio_tui.services.platform.store import CatalogStore

Clock = Callable[[], float]  # seconds since the epoch


class LoginLockedError(AuthenticationError):
    code = "LOGIN_LOCKED"
    title = "Too many sign-in attempts"
    status = 429


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    burst: float = 5.0  # attempts allowed at once
    refill_seconds: float = 30.0  # then one more attempt every this many seconds
    lockout_after: int = 5  # consecutive failures
    lockout_seconds: float = 300.0


# An origin (a shared bastion host) carries every user's attempts: a wider bucket, so one
# person's typos do not lock their colleagues out, while a password-guessing run still stops.
ORIGIN_POLICY = LoginPolicy(burst=20.0, refill_seconds=5.0, lockout_after=20,
                            lockout_seconds=300.0)


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds")


def seconds_of(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def login_keys(email: str, origin_hosts: Iterable[str]) -> list[str]:
    """The buckets one attempt counts against: the account's, and each origin's (the host, and
    the SSH client's address when there is one)."""
    return [f"account:{email_key(email)}", *(f"origin:{host}" for host in origin_hosts if host)]


class LoginLimiter:
    def __init__(self, store: CatalogStore, clock: Clock,
                 account: LoginPolicy = LoginPolicy(),
                 origin: LoginPolicy = ORIGIN_POLICY) -> None:
        self.store = store
        self.clock = clock
        self.account = account
        self.origin = origin

    def policy(self, key: str) -> LoginPolicy:
        return self.origin if key.startswith("origin:") else self.account

    def _refilled(self, bucket: LoginBucket | None, key: str, now: float) -> LoginBucket:
        policy = self.policy(key)
        if bucket is None:
            return LoginBucket(key, policy.burst, iso(now))
        gained = max(0.0, now - seconds_of(bucket.updated_at)) / policy.refill_seconds
        return replace(bucket, tokens=min(policy.burst, bucket.tokens + gained),
                       updated_at=iso(now))

    async def admit(self, keys: list[str]) -> None:
        """Take one attempt from every bucket, or raise LoginLockedError with ``retry_after``
        (and take nothing from any bucket that refused)."""
        now = self.clock()
        waits: list[float] = []
        for key in keys:
            refused: list[float] = []

            def take(bucket: LoginBucket | None, key: str = key,
                     refused: list[float] = refused) -> LoginBucket:
                bucket = self._refilled(bucket, key, now)
                if bucket.locked_until and seconds_of(bucket.locked_until) > now:
                    refused.append(seconds_of(bucket.locked_until) - now)
                    return bucket
                if bucket.tokens < 1:
                    refused.append((1 - bucket.tokens) * self.policy(key).refill_seconds)
                    return bucket
                return replace(bucket, tokens=bucket.tokens - 1)

            await self.store.update_login_bucket(key, take)
            waits.extend(refused)
        if waits:
            wait = max(1.0, max(waits))
            raise LoginLockedError(f"Too many sign-in attempts; retry after {wait:.0f} s.",
                                   retry_after=wait)

    async def failed(self, keys: list[str]) -> bool:
        """Count a failure against every bucket; True when one of them is now locked."""
        now = self.clock()
        locked = False
        for key in keys:
            def fail(bucket: LoginBucket | None, key: str = key) -> LoginBucket:
                bucket = self._refilled(bucket, key, now)
                failures = bucket.failures + 1
                until = bucket.locked_until
                policy = self.policy(key)
                if failures >= policy.lockout_after:
                    until = iso(now + policy.lockout_seconds)
                    failures = 0  # the next run starts after the lockout
                return replace(bucket, failures=failures, locked_until=until)

            bucket = await self.store.update_login_bucket(key, fail)
            locked = locked or (bucket.locked_until is not None
                                and seconds_of(bucket.locked_until) > now)
        return locked

    async def succeeded(self, keys: list[str]) -> None:
        """A success ends the run of failures (a lockout in force stays)."""
        now = self.clock()
        for key in keys:
            await self.store.update_login_bucket(
                key, lambda bucket, key=key: replace(self._refilled(bucket, key, now),
                                                     failures=0))
