"""Who may use the bot: the access rules admins set in chat, invitation codes, and who
opted out of announcements. The database is the truth; nothing here is cached."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class AccessRule:
    """``subject`` names a person, an account, a chat, a server or workspace, a Discord
    role, or ``mode`` (see core.services.access); ``verdict`` is allow/block (open/closed
    for ``mode``)."""

    subject: str
    verdict: str


@dataclass(frozen=True, slots=True)
class Invite:
    code: str
    uses_left: int


class AccessRepository(Protocol):
    async def verdicts(self, subjects: Sequence[str]) -> dict[str, str]:
        """The stored verdict of each of ``subjects`` that has one."""
        ...

    async def set_rule(self, subject: str, verdict: str, actor_id: int | None) -> None:
        """Insert or replace the rule for ``subject``."""
        ...

    async def remove_rule(self, subject: str) -> bool: ...

    async def rules(self) -> list[AccessRule]: ...

    async def add_invite(self, code: str, uses: int, actor_id: int) -> None: ...

    async def invites(self, limit: int) -> list[Invite]:
        """The newest ``limit`` invitation codes, used-up ones included (0 left)."""
        ...

    async def use_invite(self, code: str) -> bool:
        """Take one use of ``code``: one guarded UPDATE (``uses_left > 0``), so N uses
        admit exactly N people however many try at once. False when unknown or used up."""
        ...

    async def set_muted(self, account_id: int, muted: bool) -> None:
        """Whether the account opted out of announcements."""
        ...

    async def muted(self, account_ids: Sequence[int]) -> set[int]: ...
