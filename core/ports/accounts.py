"""Accounts and who they are: the account repository, the user directory admins search, and
each account's security version (which refuses every token issued before it moved on)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from core.types import Account, Exchange, Identity, IdentityKey, Role


@dataclass(frozen=True, slots=True)
class UserEntry:
    account: Account
    identities: list[Identity]


class AccountRepository(Protocol):
    async def get(self, account_id: int) -> Account | None: ...

    async def find_by_identity(self, key: IdentityKey) -> Account | None: ...

    async def create(self, role: Role) -> Account:
        """A new account with balance 0 (credits arrive through the ledger)."""
        ...

    async def add_identity(
        self, key: IdentityKey, account_id: int, display_name: str | None
    ) -> bool:
        """Attach an identity; False (and no change) when the identity already exists."""
        ...

    async def identities(self, account_id: int) -> list[Identity]: ...

    async def find_identity_by_name(self, platform: str, display_name: str) -> Identity | None:
        """Look a person up by the name the bot has seen them under (e.g. a @username)."""
        ...

    async def update_display_name(self, key: IdentityKey, display_name: str) -> None: ...

    async def move_identities(self, from_account: int, to_account: int) -> None: ...

    async def set_role(self, account_id: int, role: Role) -> None: ...

    async def set_banned(self, account_id: int, banned: bool) -> None: ...

    async def set_language(self, account_id: int, language: str | None) -> None: ...

    async def set_chat_model(self, account_id: int, model: str | None) -> None: ...

    async def reserve(
        self,
        account_id: int,
        cost: int,
        *,
        overdraft: int = 0,
        upfront: int = 0,
        least: int = 0,
    ) -> int:
        """One guarded conditional UPDATE: take ``min(cost, balance + overdraft)`` when the
        balance is positive, covers ``upfront`` on its own (the prompt's estimated cost)
        and, with the overdraft, covers ``least`` (the smallest hold worth taking). Returns
        what was taken (0, nothing changed, when any condition fails), so the balance ends
        at ``-overdraft`` at the lowest."""
        ...

    async def claim_allowance(self, account_id: int, period: str) -> int | None:
        """Mark ``period`` applied to the account, in one guarded UPDATE; returns the
        balance (locked until commit) for the one caller that claimed it, None when the
        period was applied already."""
        ...

    async def set_allowance_override(self, account_id: int, override: str | None) -> None: ...

    async def add_to_balance(self, account_id: int, amount: int) -> int:
        """Add (or, negative, subtract) and return the new balance."""
        ...


class SecurityRepository(Protocol):
    async def version(self, account_id: int) -> int: ...

    async def bump(self, account_id: int) -> int:
        """Refuse every token issued so far for the account; returns the new version."""
        ...


class DirectoryRepository(Protocol):
    async def search(
        self, query: str | None, offset: int, limit: int
    ) -> tuple[list[UserEntry], int]:
        """Accounts (not merged away) matching ``query`` in a name or user id, oldest
        first, and how many match in all."""
        ...

    async def exchange(self, request_id: str) -> tuple[int, Exchange] | None:
        """One request and its answer, with the account it belongs to."""
        ...

    async def erase(self, account_id: int) -> None:
        """Delete the account and everything that is its data."""
        ...
