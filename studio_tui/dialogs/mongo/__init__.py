"""MongoDB dialogs."""
