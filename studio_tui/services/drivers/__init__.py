"""Driver adapters, one per database kind (named in ``services/kinds.py``). Each imports its
driver only when a pool is opened."""

from studio_tui.services.drivers.base import DatabaseConnection, operation_comment

__all__ = ["DatabaseConnection", "operation_comment"]
