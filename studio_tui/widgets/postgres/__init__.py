"""PostgreSQL widgets: they take only the models of services/postgres."""
