"""studio-tui: a keyboard-driven terminal studio for Redis, MongoDB and PostgreSQL."""

import logging

__version__ = "0.1.0"

# The log goes to a file (logs.configure_logging), never to the terminal the UI draws on: until
# that is set up, nothing falls back to printing warnings on stderr.
logging.getLogger(__name__).addHandler(logging.NullHandler())
