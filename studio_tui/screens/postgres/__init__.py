"""PostgreSQL screens: the browser and its tools."""
