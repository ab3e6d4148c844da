"""Load a backup into an empty database of either kind.

The file is read through once before anything is written (a damaged file changes
nothing); the target must hold no rows. Its schema is brought to the backup's revision,
the rows go in parents first in one transaction, Postgres sequences are moved past the
restored ids, and the schema is then upgraded to this version's newest."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path

from alembic import command
from sqlalchemy import Column, Table, bindparam, func, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.backup.codec import BackupError, Header, JsonRow, read_backup, verify
from storage.backup.schema import existing_tables, known_revision, row_count, tables
from storage.db import create_engine, translate_errors
from storage.migrate import alembic_config, migrate

logger = logging.getLogger(__name__)

BATCH_ROWS = 500


async def restore_database(url: str, path: Path) -> Header:
    """Restore the backup at ``path`` into the empty database at ``url``."""
    header = await asyncio.to_thread(verify, path)
    if not known_revision(header.revision):
        raise BackupError(
            f"the backup is at schema revision {header.revision}, which this version of "
            "Switchboard does not know: restore it with the version that made it"
        )
    by_name = {t.name: t for t in tables()}
    unknown = [t.name for t in header.tables if t.name not in by_name]
    if unknown:
        raise BackupError(f"the backup has tables this version does not know: {unknown}")
    for info in header.tables:
        extra = set(info.columns) - set(by_name[info.name].columns.keys())
        if extra:
            raise BackupError(f"the backup's {info.name} has unknown columns: {sorted(extra)}")
    engine = create_engine(url, pool_size=1, command_timeout=None)
    try:
        await _refuse_if_not_empty(engine, [*by_name, *(t.name for t in header.tables)])
        await _upgrade_to(engine, header.revision)
        async with translate_errors(), engine.begin() as connection:
            await _refuse_if_not_empty(engine, list(by_name), connection)
            await _load(connection, path, header, by_name)
    finally:
        await engine.dispose()
    await migrate(url)
    logger.info("restored %d rows in %d tables", header.total_rows, len(header.tables))
    return header


async def _refuse_if_not_empty(
    engine: AsyncEngine, names: list[str], connection: AsyncConnection | None = None
) -> None:
    async def check(conn: AsyncConnection) -> None:
        present = await existing_tables(conn)
        by_name = {t.name: t for t in tables()}
        for name in dict.fromkeys(names):
            if name in present and name in by_name:
                count = await row_count(conn, by_name[name])
                if count:
                    raise BackupError(
                        f"the target database is not empty ({name} has {count} rows): "
                        "restore needs an empty database"
                    )

    if connection is not None:
        await check(connection)
        return
    async with translate_errors(), engine.connect() as conn:
        await check(conn)


async def _upgrade_to(engine: AsyncEngine, revision: str) -> None:
    def upgrade(sync: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = sync
        command.upgrade(config, revision)

    async with translate_errors(), engine.connect() as connection:
        await connection.run_sync(upgrade)
        await connection.commit()


async def _load(
    connection: AsyncConnection, path: Path, header: Header, by_name: dict[str, Table]
) -> None:
    order = [by_name[t.name] for t in header.tables]
    _check_order(order)
    columns = {t.name: t.columns for t in header.tables}
    loaders = {t.name: _TableLoader(t, columns[t.name]) for t in order}
    items = read_backup(path)
    await asyncio.to_thread(next, items)  # the header, already verified
    current: _TableLoader | None = None
    while batch := await asyncio.to_thread(_next_batch, items):
        for name, values in batch:
            loader = loaders[name]
            if loader is not current:
                if current is not None:
                    await current.finish(connection)
                current = loader
            loader.add(values)
            if loader.full:
                await loader.flush(connection)
    if current is not None:
        await current.finish(connection)
    if connection.dialect.name == "postgresql":
        await _move_sequences(connection, order)


def _check_order(order: list[Table]) -> None:
    """The rows come table by table in the header's order: every table's parents must
    come before it, or the foreign keys would refuse the rows."""
    seen: set[str] = set()
    for table in order:
        for key in table.foreign_keys:
            parent = key.column.table.name
            if parent != table.name and parent not in seen:
                raise BackupError(f"the backup lists {table.name} before its parent {parent}")
        seen.add(table.name)


def _next_batch(items: Iterator[object]) -> list[tuple[str, JsonRow]]:
    batch: list[tuple[str, JsonRow]] = []
    for item in items:
        assert isinstance(item, tuple)
        batch.append(item)
        if len(batch) >= BATCH_ROWS:
            break
    return batch


class _TableLoader:
    """Inserts one table's rows in batches. A column pointing into its own table
    (accounts.merged_into) is inserted empty and filled in once all rows are there,
    since a row may point at one that comes later."""

    def __init__(self, table: Table, columns: tuple[str, ...]) -> None:
        self._table = table
        self._columns = columns
        self._self_refs = [
            c.name
            for c in table.columns
            if c.name in columns and any(k.column.table is table for k in c.foreign_keys)
        ]
        self._keys = [c.name for c in table.primary_key.columns]
        self._rows: list[dict[str, object]] = []
        self._links: list[dict[str, object]] = []

    @property
    def full(self) -> bool:
        return len(self._rows) >= BATCH_ROWS

    def add(self, values: JsonRow) -> None:
        row = dict(zip(self._columns, values, strict=True))
        for name in self._self_refs:
            if row[name] is not None:
                link = {f"k_{k}": row[k] for k in self._keys}
                self._links.append({**link, "v_name": name, "v": row[name]})
                row[name] = None
        self._rows.append(row)

    async def flush(self, connection: AsyncConnection) -> None:
        if self._rows:
            await connection.execute(self._table.insert(), self._rows)
            self._rows = []

    async def finish(self, connection: AsyncConnection) -> None:
        await self.flush(connection)
        for name in self._self_refs:
            links = [link for link in self._links if link["v_name"] == name]
            if not links:
                continue
            where = [self._table.c[k] == bindparam(f"k_{k}") for k in self._keys]
            column: Column[object] = self._table.c[name]
            statement = self._table.update().where(*where).values({column: bindparam("v")})
            await connection.execute(
                statement, [{k: v for k, v in link.items() if k != "v_name"} for link in links]
            )
        self._links = []


async def _move_sequences(connection: AsyncConnection, order: list[Table]) -> None:
    """Explicit ids do not advance a Postgres sequence: without this, the first new row
    would collide with a restored one."""
    for table in order:
        column = table.autoincrement_column
        if column is None:
            continue
        highest = select(func.coalesce(func.max(column), 0) + 1)
        statement = text(
            "SELECT setval(pg_get_serial_sequence(:table, :column), (:highest), false)"
        )
        next_id = (await connection.execute(highest)).scalar_one()
        await connection.execute(
            statement, {"table": table.name, "column": column.name, "highest": next_id}
        )
