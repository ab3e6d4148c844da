"""The backup file itself: values that must come back exactly, damaged files refused with
one clear line, the read snapshot, and the command line."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import insert

from storage.backup import BackupError, backup_database, restore_database, snapshot, verify
from storage.backup.codec import decode, encode
from storage.backup.schedule import backup_name, prune
from storage.db import create_engine
from storage.migrate import migrate
from storage.tables import AccountRow, LedgerRow
from tests.ops.fill import all_rows, fill_through_use_cases

ROOT = Path(__file__).resolve().parents[2]
EDGE_TIME = datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        False,
        0,
        -(2**63),
        2**63 - 1,
        10**30,
        1.5,
        "",
        "ü\n\"'✨",
        b"\x00\xff",
        EDGE_TIME,
        Decimal("12.3400"),
    ],
)
def test_values_survive_encoding_exactly(value):
    back = decode(encode(value))
    assert back == value and type(back) is type(value)


async def _edge_rows(url: str) -> None:
    await migrate(url)
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            # Account 1 points at 3 (restored in id order: a forward self-reference), the largest BIGINT, both booleans, microseconds.
            await connection.execute(
                insert(AccountRow),
                [
                    dict(
                        id=3,
                        role="admin",
                        banned=False,
                        balance=-1,
                        language=None,
                        chat_model="m" * 200,
                        merged_into=None,
                        last_hold=0,
                        created_at=datetime(2030, 1, 1, tzinfo=UTC),
                    ),
                    dict(
                        id=1,
                        role="user",
                        banned=True,
                        balance=2**63 - 1,
                        language="ru",
                        chat_model=None,
                        merged_into=3,
                        last_hold=-(2**63),
                        created_at=EDGE_TIME,
                    ),
                ],
            )
            await connection.execute(
                insert(LedgerRow),
                [
                    dict(
                        account_id=1,
                        amount=2**62,
                        kind="grant",
                        request_id=None,
                        actor_account_id=3,
                        reason="ü\x01 ✨\n",
                        created_at=EDGE_TIME,
                    )
                ],
            )
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_edge_values_round_trip_between_kinds(sqlite_url, pg_url, tmp_path):
    await _edge_rows(sqlite_url)
    await backup_database(sqlite_url, tmp_path / "e.gz")
    await restore_database(pg_url, tmp_path / "e.gz")
    source, restored = await all_rows(sqlite_url), await all_rows(pg_url)
    assert restored == source and source["accounts"][0][3] == 2**63 - 1


@pytest.fixture
async def backup_file(sqlite_url, tmp_path) -> Path:
    await fill_through_use_cases(sqlite_url)
    path = tmp_path / "good.jsonl.gz"
    await backup_database(sqlite_url, path)
    return path


def _exists(sqlite_url: str) -> bool:
    return Path(sqlite_url.rpartition("///")[2]).exists()


async def _refused(path: Path, target: str, match: str) -> None:
    with pytest.raises(BackupError, match=match) as caught:
        await restore_database(target, path)
    assert "\n" not in str(caught.value)
    # Nothing was written: not even the database file.
    assert not _exists(target)


async def test_a_truncated_file_is_refused(backup_file, tmp_path):
    data = backup_file.read_bytes()
    for cut in (len(data) // 2, len(data) - 9):
        broken = tmp_path / f"cut{cut}.gz"
        broken.write_bytes(data[:cut])
        await _refused(broken, f"sqlite+aiosqlite:///{tmp_path}/t{cut}.db", "truncated")


async def test_a_file_cut_at_a_line_and_recompressed_is_refused(backup_file, tmp_path):
    lines = gzip.decompress(backup_file.read_bytes()).splitlines(keepends=True)
    broken = tmp_path / "lines.gz"
    broken.write_bytes(gzip.compress(b"".join(lines[:-3])))
    await _refused(broken, f"sqlite+aiosqlite:///{tmp_path}/l.db", "truncated")


async def test_one_changed_byte_is_refused(backup_file, tmp_path):
    raw = bytearray(gzip.decompress(backup_file.read_bytes()))
    at = raw.index(b'"Echo: hello"') + 2  # one letter of an answer
    raw[at] = ord("X")
    tampered = tmp_path / "tampered.gz"
    tampered.write_bytes(gzip.compress(bytes(raw)))
    await _refused(tampered, f"sqlite+aiosqlite:///{tmp_path}/x.db", "checksum")
    # A flipped byte in the compressed stream itself: gzip's CRC or inflate catches it.
    packed = bytearray(backup_file.read_bytes())
    packed[len(packed) // 2] ^= 0x01
    flipped = tmp_path / "flipped.gz"
    flipped.write_bytes(bytes(packed))
    with pytest.raises(BackupError, match="damaged|checksum|truncated"):
        verify(flipped)


async def test_a_missing_or_foreign_file_is_a_clear_error(tmp_path):
    with pytest.raises(BackupError, match="no such file"):
        verify(tmp_path / "nothing.gz")
    (tmp_path / "plain.txt").write_text("hello")
    with pytest.raises(BackupError, match="damaged"):
        verify(tmp_path / "plain.txt")
    (tmp_path / "other.gz").write_bytes(gzip.compress(b'{"format": "other"}\n'))
    with pytest.raises(BackupError, match="not a Switchboard backup"):
        verify(tmp_path / "other.gz")


async def test_the_snapshot_does_not_see_later_writes(sqlite_url):
    await _edge_rows(sqlite_url)
    engine = create_engine(sqlite_url)
    try:
        async with snapshot(engine) as reader:
            before = (await reader.exec_driver_sql("SELECT count(*) FROM ledger")).scalar_one()
            async with engine.begin() as writer:
                await writer.execute(
                    insert(LedgerRow), [dict(account_id=3, amount=1, kind="grant")]
                )
            during = (await reader.exec_driver_sql("SELECT count(*) FROM ledger")).scalar_one()
        assert before == during == 1
    finally:
        await engine.dispose()


def test_pruning_keeps_the_newest(tmp_path):
    names = [backup_name(datetime(2024, 1, day, tzinfo=UTC)) for day in range(1, 6)]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "unrelated.gz").write_bytes(b"x")
    removed = prune(tmp_path, keep=2)
    assert sorted(p.name for p in removed) == names[:3]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*names[3:], "unrelated.gz"])


def _cli(*args: str, url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    env.pop("OPENAI_API_KEY", None)
    return subprocess.run(
        [sys.executable, "-m", "bots", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
async def test_command_line_backup_and_restore(sqlite_url, tmp_path):
    await fill_through_use_cases(sqlite_url)
    out = tmp_path / "cli.jsonl.gz"
    done = _cli("backup", "--out", str(out), url=sqlite_url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "backed up to" in done.stdout and out.exists()
    target = f"sqlite:///{tmp_path}/restored.db"
    done = _cli("restore", str(out), url=target, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert await all_rows(f"sqlite+aiosqlite:///{tmp_path}/restored.db") == await all_rows(
        sqlite_url
    )
    again = _cli("restore", str(out), url=target, cwd=tmp_path)
    assert again.returncode == 2
    assert (
        again.stderr.strip()
        .splitlines()[-1]
        .startswith("switchboard: the target database is not empty")
    )
