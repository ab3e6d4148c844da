"""Who owns which /v1 file, on every backend: rows per (provider, file id), an
account's files newest first, removal, rollback without a commit, and linking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.ports import GatewayFile
from core.types import Role
from tests.contract.conftest import UowFactory

T0 = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


async def test_files_are_owned_listed_and_removed(uow: UowFactory) -> None:
    async with uow() as tx:
        alice, bob = await tx.accounts.create(Role.USER), await tx.accounts.create(Role.USER)
        await tx.gateway_files.add(GatewayFile("file-1", alice.id, "openai", T0))
        await tx.gateway_files.add(GatewayFile("file-2", alice.id, "openai", T0 + timedelta(1)))
        await tx.gateway_files.add(GatewayFile("file-1", bob.id, "local", T0))
        await tx.commit()
    async with uow() as tx:
        mine = await tx.gateway_files.owned(alice.id)
        assert [(f.file_id, f.provider) for f in mine] == [
            ("file-2", "openai"),
            ("file-1", "openai"),
        ]
        assert mine[0].created_at == T0 + timedelta(1)
        found = await tx.gateway_files.get("file-1", "local")
        assert found is not None and found.account_id == bob.id
        assert await tx.gateway_files.get("file-3", "openai") is None
        assert await tx.gateway_files.remove("file-1", "openai")
        # Not committed: the row comes back.
    async with uow() as tx:
        assert await tx.gateway_files.get("file-1", "openai") is not None
        assert await tx.gateway_files.remove("file-1", "openai")
        assert not await tx.gateway_files.remove("file-1", "openai")
        await tx.commit()
    async with uow() as tx:
        assert [f.file_id for f in await tx.gateway_files.owned(alice.id)] == ["file-2"]
        assert await tx.gateway_files.owned(bob.id) != []
        await tx.gateway_files.move_account(alice.id, bob.id)  # linking joins alice into bob
        await tx.commit()
    async with uow() as tx:
        assert await tx.gateway_files.owned(alice.id) == []
        moved = await tx.gateway_files.get("file-2", "openai")
        assert moved is not None and moved.account_id == bob.id
