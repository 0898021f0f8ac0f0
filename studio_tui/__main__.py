"""`python -m studio_tui`."""

from studio_tui.cli import main

main()
