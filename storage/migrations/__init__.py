"""Alembic migrations of the SQL schema (``storage.tables``); applied by ``storage.migrate``."""
