"""Backups across database kinds: fill through the use cases, back up, restore into the
other kind, compare every row of every table; refusals leave the target unchanged."""

from __future__ import annotations

import pytest

from storage.backup import BackupError, backup_database, restore_database
from storage.backup.schema import tables
from tests.ops.fill import all_rows, ask_once, fill_through_use_cases

pytestmark = pytest.mark.postgres


def _assert_full(rows: dict[str, list[tuple[object, ...]]]) -> None:
    # The comparison proves little about a table the fill left empty.
    assert set(rows) == {t.name for t in tables()}
    assert all(rows.values()), [name for name, r in rows.items() if not r]


async def test_sqlite_to_postgres_and_back_keeps_every_row(sqlite_url, pg_url, tmp_path):
    await fill_through_use_cases(sqlite_url)
    source = await all_rows(sqlite_url)
    _assert_full(source)
    merged = [row for row in source["accounts"] if row[6] is not None]
    assert merged and merged[0][6] > merged[0][0]  # a row pointing at a later one

    header = await backup_database(sqlite_url, tmp_path / "a.jsonl.gz")
    assert header.total_rows == sum(len(r) for r in source.values())
    await restore_database(pg_url, tmp_path / "a.jsonl.gz")
    assert await all_rows(pg_url) == source

    # And back: Postgres → a fresh SQLite file.
    second = f"sqlite+aiosqlite:///{tmp_path}/second.db"
    await backup_database(pg_url, tmp_path / "b.jsonl.gz")
    await restore_database(second, tmp_path / "b.jsonl.gz")
    assert await all_rows(second) == source

    # Sequences moved past the restored ids: new rows get new ids, not a collision.
    await ask_once(pg_url, "after the restore")
    after = await all_rows(pg_url)
    assert len(after["ledger"]) > len(source["ledger"])
    assert after["accounts"][: len(source["accounts"])] == source["accounts"]


async def test_postgres_to_sqlite_from_a_postgres_fill(sqlite_url, pg_url, tmp_path):
    await fill_through_use_cases(pg_url)
    source = await all_rows(pg_url)
    _assert_full(source)
    await backup_database(pg_url, tmp_path / "p.jsonl.gz")
    await restore_database(sqlite_url, tmp_path / "p.jsonl.gz")
    assert await all_rows(sqlite_url) == source


async def test_restore_onto_a_non_empty_database_refuses_and_changes_nothing(
    sqlite_url, pg_url, tmp_path
):
    await fill_through_use_cases(sqlite_url)
    await backup_database(sqlite_url, tmp_path / "a.jsonl.gz")
    await ask_once(pg_url, "already here")
    before = await all_rows(pg_url)
    with pytest.raises(BackupError, match="not empty"):
        await restore_database(pg_url, tmp_path / "a.jsonl.gz")
    assert await all_rows(pg_url) == before
