"""Which tables a backup holds and at which schema revision, read from the database and
from ``Base.metadata`` (every module that declares tables on it is imported first, so a
table added later is backed up without touching this package)."""

from __future__ import annotations

import importlib

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, Table, func, inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.backup.codec import BackupError
from storage.migrate import alembic_config

# Modules that declare tables on storage.tables.Base; optional ones may not exist yet.
TABLE_MODULES = ("storage.tables",)


def metadata() -> MetaData:
    for name in TABLE_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    from storage.tables import Base

    return Base.metadata


def tables() -> list[Table]:
    """Every table, parents before children (the order rows must be inserted in)."""
    return list(metadata().sorted_tables)


def script_heads() -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


def known_revision(revision: str) -> bool:
    scripts = ScriptDirectory.from_config(alembic_config())
    return any(script.revision == revision for script in scripts.walk_revisions())


async def current_revision(connection: AsyncConnection) -> str | None:
    def read(sync: Connection) -> str | None:
        heads = MigrationContext.configure(sync).get_current_heads()
        if len(heads) > 1:
            raise BackupError(f"the database has several schema heads: {', '.join(heads)}")
        return heads[0] if heads else None

    return await connection.run_sync(read)


async def existing_tables(connection: AsyncConnection) -> set[str]:
    return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))


async def row_count(connection: AsyncConnection, table: Table) -> int:
    return int((await connection.execute(select(func.count()).select_from(table))).scalar_one())
