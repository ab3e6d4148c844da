"""Broadcasts and their delivery lists (core.ports.AnnouncementRepository)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, insert, or_, select, update

from core.ports import Broadcast, Reachable, Recipient
from core.types import IdentityKey, Role
from storage.repositories._base import SqlRepository
from storage.tables import (
    AccountRow,
    AnnouncementMuteRow,
    BroadcastDeliveryRow,
    BroadcastRow,
    IdentityRow,
    UsageRow,
)

_BROADCAST = (
    BroadcastRow.id,
    BroadcastRow.actor_account_id,
    BroadcastRow.text,
    BroadcastRow.audience,
    BroadcastRow.state,
)


def _broadcast(row: Row[Any]) -> Broadcast:
    return Broadcast(int(row.id), int(row.actor_account_id), row.text, row.audience, row.state)


class SqlAnnouncementRepository(SqlRepository):
    async def reachable(self, role: Role | None, admins_only: bool = False) -> list[Reachable]:
        accounts = select(AccountRow.id, AccountRow.language).where(
            AccountRow.banned.is_(False), AccountRow.merged_into.is_(None)
        )
        if admins_only:
            accounts = accounts.where(AccountRow.role == Role.ADMIN.value)
        else:
            muted = select(AnnouncementMuteRow.account_id)
            accounts = accounts.where(AccountRow.id.not_in(muted))
            if role is not None:
                accounts = accounts.where(AccountRow.role == role.value)
        languages = {int(r.id): r.language for r in await self._execute(accounts)}
        identities: dict[int, list[IdentityKey]] = defaultdict(list)
        rows = select(
            IdentityRow.account_id, IdentityRow.platform, IdentityRow.workspace, IdentityRow.user_id
        ).order_by(IdentityRow.id.desc())
        for row in await self._execute(rows):
            if int(row.account_id) in languages:
                identities[int(row.account_id)].append(
                    IdentityKey(row.platform, row.workspace, row.user_id)
                )
        latest = select(func.max(UsageRow.id).label("id")).group_by(UsageRow.account_id).subquery()
        last = select(UsageRow.account_id, UsageRow.platform).join(
            latest, UsageRow.id == latest.c.id
        )
        platforms = {int(r.account_id): r.platform for r in await self._execute(last)}
        return [
            Reachable(
                account_id, language, tuple(identities[account_id]), platforms.get(account_id)
            )
            for account_id, language in sorted(languages.items())
            if identities[account_id]
        ]

    async def create(self, actor_id: int, text: str, audience: str) -> int:
        statement = (
            insert(BroadcastRow)
            .values(actor_account_id=actor_id, text=text, audience=audience, state="draft")
            .returning(BroadcastRow.id)
        )
        return int((await self._execute(statement)).scalar_one())

    async def get(self, broadcast_id: int) -> Broadcast | None:
        row = (
            await self._execute(select(*_BROADCAST).where(BroadcastRow.id == broadcast_id))
        ).first()
        return _broadcast(row) if row is not None else None

    async def latest_draft(self, actor_id: int) -> Broadcast | None:
        statement = (
            select(*_BROADCAST)
            .where(BroadcastRow.actor_account_id == actor_id, BroadcastRow.state == "draft")
            .order_by(BroadcastRow.id.desc())
            .limit(1)
        )
        row = (await self._execute(statement)).first()
        return _broadcast(row) if row is not None else None

    async def start(self, broadcast_id: int, recipients: Sequence[Recipient]) -> bool:
        started = (
            update(BroadcastRow)
            .where(BroadcastRow.id == broadcast_id, BroadcastRow.state == "draft")
            .values(state="sending")
            .returning(BroadcastRow.id)
        )
        if (await self._execute(started)).first() is None:
            return False
        rows = [
            {
                "broadcast_id": broadcast_id,
                "account_id": r.account_id,
                "seq": seq,
                "platform": r.identity.platform,
                "workspace": r.identity.workspace,
                "user_id": r.identity.user_id,
                "language": r.language,
                "state": "pending",
            }
            for seq, r in enumerate(recipients)
        ]
        for at in range(0, len(rows), 500):  # bounded statements, whatever the audience
            await self._execute(insert(BroadcastDeliveryRow).values(rows[at : at + 500]))
        return True

    async def claim(
        self, worker_id: str, now: datetime, until: datetime, skip: Sequence[int] = ()
    ) -> Broadcast | None:
        free = or_(
            BroadcastRow.lease_until.is_(None),
            BroadcastRow.lease_until < now,
            BroadcastRow.worker_id == worker_id,
        )
        candidate = (
            select(BroadcastRow.id)
            .where(BroadcastRow.state == "sending", free, BroadcastRow.id.not_in(list(skip)))
            .order_by(BroadcastRow.id)
            .limit(1)
        )
        found = (await self._execute(candidate)).scalar_one_or_none()
        if found is None:
            return None
        taken = (
            update(BroadcastRow)
            .where(BroadcastRow.id == found, BroadcastRow.state == "sending", free)
            .values(worker_id=worker_id, lease_until=until)
            .returning(*_BROADCAST)
        )
        row = (await self._execute(taken)).first()
        return _broadcast(row) if row is not None else None

    async def release(self, broadcast_id: int, worker_id: str) -> None:
        await self._execute(
            update(BroadcastRow)
            .where(BroadcastRow.id == broadcast_id, BroadcastRow.worker_id == worker_id)
            .values(worker_id=None, lease_until=None)
        )

    async def pending(
        self, broadcast_id: int, limit: int, platforms: Sequence[str]
    ) -> list[Recipient]:
        statement = (
            select(
                BroadcastDeliveryRow.account_id,
                BroadcastDeliveryRow.platform,
                BroadcastDeliveryRow.workspace,
                BroadcastDeliveryRow.user_id,
                BroadcastDeliveryRow.language,
            )
            .where(
                BroadcastDeliveryRow.broadcast_id == broadcast_id,
                BroadcastDeliveryRow.state == "pending",
                BroadcastDeliveryRow.platform.in_(list(platforms)),
            )
            .order_by(BroadcastDeliveryRow.seq)
            .limit(limit)
        )
        return [
            Recipient(
                int(r.account_id), IdentityKey(r.platform, r.workspace, r.user_id), r.language
            )
            for r in await self._execute(statement)
        ]

    async def mark(self, broadcast_id: int, account_id: int, outcome: str) -> None:
        await self._execute(
            update(BroadcastDeliveryRow)
            .where(
                BroadcastDeliveryRow.broadcast_id == broadcast_id,
                BroadcastDeliveryRow.account_id == account_id,
            )
            .values(state=outcome)
        )

    async def finish(self, broadcast_id: int) -> None:
        await self._execute(
            update(BroadcastRow)
            .where(BroadcastRow.id == broadcast_id)
            .values(state="done", worker_id=None, lease_until=None)
        )

    async def counts(self, broadcast_id: int) -> dict[str, int]:
        statement = (
            select(BroadcastDeliveryRow.state, func.count())
            .where(BroadcastDeliveryRow.broadcast_id == broadcast_id)
            .group_by(BroadcastDeliveryRow.state)
        )
        return {state: int(n) for state, n in await self._execute(statement)}
