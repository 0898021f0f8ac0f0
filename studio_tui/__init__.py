"""studio-tui: a keyboard-driven terminal studio for Redis, MongoDB and PostgreSQL."""

__version__ = "0.1.0"
