"""Write a backup: every table, read in one snapshot, so that the ledger, the balances and
the usage events in the file agree with each other even while the bot keeps running."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.backup.codec import BackupError, BackupWriter, Header, TableInfo
from storage.backup.schema import current_revision, row_count, script_heads, tables
from storage.db import create_engine, sqlite_file, translate_errors

logger = logging.getLogger(__name__)

BATCH_ROWS = 1000


@asynccontextmanager
async def snapshot(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection whose reads all see the database as of its first read."""
    async with translate_errors(), engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
            async with connection.begin():
                yield connection
            return
        # pysqlite opens a transaction only before a write, so every SELECT would see a
        # different moment: take transaction control and BEGIN by hand.
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.exec_driver_sql("BEGIN")
        try:
            yield connection
        finally:
            await connection.exec_driver_sql("ROLLBACK")


async def backup_database(url: str, path: Path) -> Header:
    """Write a backup of the database at ``url`` to ``path``; returns its header."""
    database_file = sqlite_file(url)
    if database_file is not None and not database_file.exists():
        raise BackupError(f"there is no database at {database_file}")
    engine = create_engine(url, pool_size=1, command_timeout=None)
    try:
        async with snapshot(engine) as connection:
            return await _export(connection, path)
    finally:
        await engine.dispose()


async def _export(connection: AsyncConnection, path: Path) -> Header:
    revision = await current_revision(connection)
    if revision is None or {revision} != script_heads():
        raise BackupError(
            "the database is not at this version's newest schema: run `python -m bots migrate`"
        )
    chosen = tables()
    infos = [
        TableInfo(t.name, tuple(c.name for c in t.columns), await row_count(connection, t))
        for t in chosen
    ]
    header = Header(
        revision=revision,
        created_at=datetime.now(UTC).isoformat(),
        source=connection.dialect.name,
        tables=tuple(infos),
    )
    writer = await asyncio.to_thread(BackupWriter, path, header)
    try:
        for table in chosen:
            statement = select(table).order_by(*table.primary_key.columns)
            result = await connection.stream(statement)
            async for rows in result.partitions(BATCH_ROWS):
                await asyncio.to_thread(writer.rows, table.name, rows)
        await asyncio.to_thread(writer.finish)
    except BaseException:
        await asyncio.shield(asyncio.to_thread(writer.abort))
        raise
    logger.info("backup of %d rows in %d tables written", header.total_rows, len(infos))
    return header
