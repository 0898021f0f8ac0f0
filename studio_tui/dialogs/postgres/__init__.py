"""PostgreSQL dialogs."""
