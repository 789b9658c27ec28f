"""SQLite backend of the embedded default: Django's, with the database file kept private (0600)."""
