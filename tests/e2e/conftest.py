"""Fixtures of the end-to-end tests: a database URL on SQLite, and on Postgres when
TEST_DATABASE_URL is set."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("pg_url"))
