"""``AnnouncementRepository`` in memory, following storage/repositories/announcements.py."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from core.ports import Broadcast, Reachable, Recipient
from core.types import Role
from tests.fakes.memory_store import MemoryBroadcast, Repository, _utc


class MemoryAnnouncements(Repository):
    async def reachable(self, role: Role | None, admins_only: bool = False) -> list[Reachable]:
        store = self._store
        found = []
        for account_id, row in sorted(store.accounts.items()):
            account = row.account
            if account.banned or row.merged_into is not None:
                continue
            if admins_only and account.role is not Role.ADMIN:
                continue
            if not admins_only and (
                account_id in store.muted or (role is not None and account.role is not role)
            ):
                continue
            identities = sorted(
                (r for r in store.identities.values() if r.identity.account_id == account_id),
                key=lambda r: -r.id,
            )
            if not identities:
                continue
            usage = [event for _, event in store.usage if event.account_id == account_id]
            found.append(
                Reachable(
                    account_id,
                    account.language,
                    tuple(r.identity.key for r in identities),
                    usage[-1].platform if usage else None,
                )
            )
        return found

    async def create(self, actor_id: int, text: str, audience: str) -> int:
        broadcast_id = self._store.next_id("broadcasts")
        self._store.broadcasts[broadcast_id] = MemoryBroadcast(actor_id, text, audience)
        self._undo.append(lambda: self._store.broadcasts.pop(broadcast_id, None))
        return broadcast_id

    def _view(self, broadcast_id: int) -> Broadcast | None:
        b = self._store.broadcasts.get(broadcast_id)
        return Broadcast(broadcast_id, b.actor_id, b.text, b.audience, b.state) if b else None

    async def get(self, broadcast_id: int) -> Broadcast | None:
        return self._view(broadcast_id)

    async def latest_draft(self, actor_id: int) -> Broadcast | None:
        drafts = [
            i
            for i, b in self._store.broadcasts.items()
            if b.actor_id == actor_id and b.state == "draft"
        ]
        return self._view(max(drafts)) if drafts else None

    async def start(self, broadcast_id: int, recipients: Sequence[Recipient]) -> bool:
        b = self._store.broadcasts.get(broadcast_id)
        if b is None or b.state != "draft":
            return False
        b.state = "sending"
        b.deliveries = {r.account_id: [r, "pending"] for r in recipients}

        def undo() -> None:
            b.state, b.deliveries = "draft", {}

        self._undo.append(undo)
        return True

    async def claim(
        self, worker_id: str, now: datetime, until: datetime, skip: Sequence[int] = ()
    ) -> Broadcast | None:
        for broadcast_id, b in sorted(self._store.broadcasts.items()):
            if broadcast_id in skip:
                continue
            free = (
                b.lease_until is None or _utc(b.lease_until) < _utc(now) or b.worker_id == worker_id
            )
            if b.state == "sending" and free:
                before = (b.worker_id, b.lease_until)
                b.worker_id, b.lease_until = worker_id, until
                self._undo.append(lambda b=b, before=before: _restore(b, before))
                return self._view(broadcast_id)
        return None

    async def release(self, broadcast_id: int, worker_id: str) -> None:
        b = self._store.broadcasts[broadcast_id]
        if b.worker_id == worker_id:
            before = (b.worker_id, b.lease_until)
            b.worker_id, b.lease_until = None, None
            self._undo.append(lambda: _restore(b, before))

    async def pending(
        self, broadcast_id: int, limit: int, platforms: Sequence[str]
    ) -> list[Recipient]:
        b = self._store.broadcasts[broadcast_id]
        waiting = [
            r
            for r, state in b.deliveries.values()
            if state == "pending" and r.identity.platform in platforms  # type: ignore[attr-defined]
        ]
        return waiting[:limit]  # type: ignore[return-value]

    async def mark(self, broadcast_id: int, account_id: int, outcome: str) -> None:
        entry = self._store.broadcasts[broadcast_id].deliveries[account_id]
        before = entry[1]
        entry[1] = outcome
        self._undo.append(lambda: entry.__setitem__(1, before))

    async def finish(self, broadcast_id: int) -> None:
        b = self._store.broadcasts[broadcast_id]
        before = (b.state, b.worker_id, b.lease_until)
        b.state, b.worker_id, b.lease_until = "done", None, None

        def undo() -> None:
            b.state, b.worker_id, b.lease_until = before

        self._undo.append(undo)

    async def counts(self, broadcast_id: int) -> dict[str, int]:
        counts: dict[str, int] = {}
        for _, state in self._store.broadcasts[broadcast_id].deliveries.values():
            counts[str(state)] = counts.get(str(state), 0) + 1
        return counts


def _restore(b: MemoryBroadcast, before: tuple[str | None, datetime | None]) -> None:
    b.worker_id, b.lease_until = before
