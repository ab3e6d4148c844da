"""One suite run against the in-memory fakes, SQLite and Postgres, so the fakes stay honest."""
