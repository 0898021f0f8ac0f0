"""MongoDB services: every read and write of a MongoDB entry, through the connection manager."""
