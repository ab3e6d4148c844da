"""What the broadcast test and bench share: a database with N people on Telegram and one
admin, and a broadcast to all of them confirmed by that admin (the real use cases)."""

from __future__ import annotations

from core.models_config import ModelCatalog
from core.services.accounts import AccountService
from core.services.admin import AdminService
from core.services.announcements import Announcements, Draft
from core.services.config import CoreConfig
from core.types import IdentityKey, Role
from storage.db import create_engine
from storage.kv.memory import MemoryLinkCodes
from storage.migrate import migrate
from storage.uow import sql_uow_factory
from tests.harness import caller

ADMIN = caller("1", name="boss")
FIRST_PERSON = 10_000


def person(i: int) -> IdentityKey:
    return IdentityKey("telegram", "", str(FIRST_PERSON + i))


async def confirmed_broadcast(url: str, people: int, text: str) -> Draft:
    """Migrate ``url``, add ``people`` accounts on Telegram, and start a broadcast."""
    await migrate(url)
    engine = create_engine(url)
    try:
        uow = sql_uow_factory(engine)
        async with uow() as tx:
            for i in range(people):
                account = await tx.accounts.create(Role.USER)
                await tx.accounts.add_identity(person(i), account.id, f"person{i}")
            await tx.commit()
        config = CoreConfig(bootstrap_admins=frozenset({ADMIN.identity}))
        accounts = AccountService(uow, config, MemoryLinkCodes(), ModelCatalog({}, {}, {}))
        announcements = Announcements(uow, AdminService(uow, accounts), {})
        draft = await announcements.draft(ADMIN, text)
        return await announcements.confirm(ADMIN, draft.id)
    finally:
        await engine.dispose()


async def broadcast_counts(url: str, broadcast_id: int) -> tuple[str, dict[str, int]]:
    engine = create_engine(url)
    try:
        async with sql_uow_factory(engine)() as tx:
            found = await tx.announcements.get(broadcast_id)
            counts = await tx.announcements.counts(broadcast_id)
        assert found is not None
        return found.state, counts
    finally:
        await engine.dispose()
