"""``AccessRepository`` in memory, following storage/repositories/access.py."""

from __future__ import annotations

from collections.abc import Sequence

from core.ports import AccessRule, Invite
from tests.fakes.memory_store import Repository, put


class MemoryAccess(Repository):
    async def verdicts(self, subjects: Sequence[str]) -> dict[str, str]:
        rules = self._store.access_rules
        return {s: rules[s] for s in subjects if s in rules}

    async def set_rule(self, subject: str, verdict: str, actor_id: int | None) -> None:
        put(self._store.access_rules, subject, verdict, self._undo)

    async def remove_rule(self, subject: str) -> bool:
        rules = self._store.access_rules
        if subject not in rules:
            return False
        before = rules.pop(subject)
        self._undo.append(lambda: rules.__setitem__(subject, before))
        return True

    async def rules(self) -> list[AccessRule]:
        return [AccessRule(s, v) for s, v in sorted(self._store.access_rules.items())]

    async def add_invite(self, code: str, uses: int, actor_id: int) -> None:
        if code not in self._store.invites:
            put(self._store.invites, code, uses, self._undo)

    async def invites(self, limit: int) -> list[Invite]:
        # A dict keeps insertion order: the newest code is the last one added.
        newest = reversed(self._store.invites.items())
        return [Invite(code, left) for code, left in newest][:limit]

    async def use_invite(self, code: str) -> bool:
        left = self._store.invites.get(code, 0)
        if left <= 0:
            return False
        put(self._store.invites, code, left - 1, self._undo)
        return True

    async def set_muted(self, account_id: int, muted: bool) -> None:
        store = self._store
        if muted and account_id not in store.muted:
            store.require_account(account_id)
            store.muted.add(account_id)
            self._undo.append(lambda: store.muted.discard(account_id))
        elif not muted and account_id in store.muted:
            store.muted.discard(account_id)
            self._undo.append(lambda: store.muted.add(account_id))

    async def muted(self, account_ids: Sequence[int]) -> set[int]:
        return self._store.muted & set(account_ids)
