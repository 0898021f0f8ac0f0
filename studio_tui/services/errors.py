"""The StudioError hierarchy: every failure the services report, in RFC 9457 problem-details shape.

Driver exceptions never cross the service boundary; they are mapped to one of these, with
their text scrubbed of secrets (see ``redaction``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from studio_tui.services.redaction import scrub_text

PROBLEM_TYPE_BASE = "https://studio-tui.dev/problems/"


@dataclass(eq=False)
class StudioError(Exception):
    """Base of every error the service layer raises."""

    detail: str = ""
    field_errors: dict[str, str] = field(default_factory=dict)
    retry_after: float | None = None
    database: str | None = None

    code: ClassVar[str] = "STUDIO_ERROR"
    title: ClassVar[str] = "Something went wrong"
    status: ClassVar[int] = 500
    # Whether this failure says something about the server's health. Only these count
    # against a circuit breaker; a typo in a query must not open it.
    is_outage: ClassVar[bool] = False

    def __post_init__(self) -> None:
        self.detail = scrub_text(self.detail)
        self.field_errors = {k: scrub_text(v) for k, v in self.field_errors.items()}
        super().__init__(self.detail)

    def __str__(self) -> str:
        where = f"[{self.database}] " if self.database else ""
        text = f"{where}{self.title}: {self.detail}" if self.detail else f"{where}{self.title}"
        if self.retry_after is not None:
            text += f" (retry in {self.retry_after:.0f}s)"
        return text

    def to_problem(self) -> dict[str, Any]:
        """RFC 9457 problem details, for ``--json`` output and logs."""
        problem: dict[str, Any] = {
            "type": PROBLEM_TYPE_BASE + self.code.lower().replace("_", "-"),
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        }
        if self.database:
            problem["database"] = self.database
        if self.field_errors:
            problem["field_errors"] = [
                {"field": name, "message": message} for name, message in self.field_errors.items()
            ]
        if self.retry_after is not None:
            problem["retry_after"] = round(self.retry_after, 3)
        return problem


class ValidationError(StudioError):
    code = "VALIDATION_ERROR"
    title = "Invalid input"
    status = 400


class NotFoundError(StudioError):
    code = "NOT_FOUND"
    title = "Not found"
    status = 404


class ConflictError(StudioError):
    code = "CONFLICT"
    title = "Conflict"
    status = 409


class PermissionDeniedError(StudioError):
    code = "FORBIDDEN"
    title = "Not allowed"
    status = 403


class ReadOnlyError(PermissionDeniedError):
    code = "READ_ONLY"
    title = "Read-only database"


class ReadModeError(ReadOnlyError):
    """A write from an editor in read mode on an entry that takes writes: the entry is not
    read-only, the editor's mode is (write mode lets it through)."""
    code = "READ_MODE"
    title = "Read mode"


class AuthenticationError(StudioError):
    code = "AUTH_FAILED"
    title = "Authentication failed"
    status = 401


class ConnectionFailedError(StudioError):
    """The server could not be reached; ``reason`` says why in one word."""

    code = "CONNECTION_FAILED"
    title = "Cannot connect"
    status = 503
    is_outage = True


class DnsError(ConnectionFailedError):
    code = "DNS_FAILED"
    title = "Host not found"


class RefusedError(ConnectionFailedError):
    code = "CONNECTION_REFUSED"
    title = "Connection refused"


class TlsError(ConnectionFailedError):
    code = "TLS_FAILED"
    title = "TLS handshake failed"


class OperationTimeoutError(StudioError):
    code = "TIMEOUT"
    title = "Timed out"
    status = 504
    is_outage = True


class PoolExhaustedError(StudioError):
    code = "POOL_EXHAUSTED"
    title = "All connections busy"
    status = 503
    is_outage = True


class TooManyOperationsError(StudioError):
    code = "TOO_MANY_OPERATIONS"
    title = "Too many operations at once"
    status = 429


class CircuitOpenError(StudioError):
    code = "CIRCUIT_OPEN"
    title = "Temporarily unavailable"
    status = 503


class ServerError(StudioError):
    """The server answered with an error about the request (syntax, wrong type…)."""

    code = "SERVER_ERROR"
    title = "Server error"
    status = 422


class UnavailableError(StudioError):
    """The server answered but is not able to serve (loading, shutting down, read-only replica)."""

    code = "UNAVAILABLE"
    title = "Server unavailable"
    status = 503
    is_outage = True


class VaultError(StudioError):
    code = "VAULT_ERROR"
    title = "Secret store error"
    status = 500


class WeakKeyError(VaultError):
    code = "WEAK_KEY"
    title = "Encryption key refused"


class WrongKeyError(VaultError):
    code = "WRONG_KEY"
    title = "Encryption key does not match"


class ConfigError(StudioError):
    code = "CONFIG_ERROR"
    title = "Configuration error"
    status = 400
