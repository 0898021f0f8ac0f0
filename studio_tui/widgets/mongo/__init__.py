"""MongoDB widgets: they take only the models of services/mongo."""
