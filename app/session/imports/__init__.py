"""Other tools' recordings read beside Joulebench sessions, read-only (docs/python-api.md, "Other tools")."""
