"""The platform catalog: organizations, projects, database entries, users, sessions and audit."""
