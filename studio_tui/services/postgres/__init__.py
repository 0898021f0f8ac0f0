"""PostgreSQL services: every read and write of a PostgreSQL entry, through the connection manager."""
