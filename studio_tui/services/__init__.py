"""The service layer: pools, breakers, secrets and the catalog. Never imports textual or rich."""
