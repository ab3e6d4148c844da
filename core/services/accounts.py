"""Accounts: first contact, bootstrap admins, preferences and linking identities."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime

from core.errors import AlreadyLinked, BadArgument, LinkCodeInvalid, PrivateBot, UnknownModel
from core.i18n import available_languages, normalize_language
from core.models_config import ModelCatalog, ModelSpec
from core.ports import LinkCodes, UnitOfWork, UnitOfWorkFactory
from core.services.access import Access
from core.services.allowances import AllowancePolicy, Allowances
from core.services.config import CoreConfig
from core.services.events import record_event
from core.services.requests import Caller
from core.types import Account, Feature, LedgerEntry, LedgerKind, Role

logger = logging.getLogger(__name__)


class AccountService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        config: CoreConfig,
        links: LinkCodes,
        models: ModelCatalog,
        access: Access | None = None,
        allowances: Allowances | None = None,
    ) -> None:
        self._uow = uow
        self.access = access or Access(config)
        # Told about every account created (admin notices: new_user); set by build_core.
        self.on_new_account: Callable[[Account, Caller], Awaitable[None]] | None = None
        self._config = config
        self._links = links
        self._models = models
        self.allowances = allowances or Allowances(AllowancePolicy(), lambda: datetime.now(UTC))

    def needs_update(self, account: Account, caller: Caller) -> bool:
        """True when ``resolve`` would write (a bootstrap admin not yet promoted, or an
        allowance period not applied yet)."""
        promote = (
            caller.identity in self._config.bootstrap_admins and account.role is not Role.ADMIN
        )
        return promote or self.allowances.due(account) is not None

    async def resolve(self, caller: Caller, invite: str | None = None) -> Account:
        """The caller's account, created on first contact (with the welcome credits) when
        the access rules let them in, or ``invite`` (a code) does, with the current period's
        allowance applied (see core.services.allowances). Raises ``PrivateBot``/
        ``AccessBlocked`` otherwise, with nothing written."""
        # Two first messages can race; the loser's identity insert conflicts, its
        # transaction rolls back, and the second pass finds the winner's account.
        for _ in range(3):
            async with self._uow() as uow:
                account = await uow.accounts.find_by_identity(caller.identity)
                if account is None:
                    await self._admit_newcomer(uow, caller, invite)
                    account = await self._create(uow, caller)
                    if account is None:
                        continue
                    account = await self.allowances.apply_in(uow, account)
                    await uow.commit()
                    if self.on_new_account is not None:
                        await self.on_new_account(account, caller)
                    return account
                await self.access.check(uow, caller, account)
                if (
                    caller.identity in self._config.bootstrap_admins
                    and account.role is not Role.ADMIN
                ):
                    await uow.accounts.set_role(account.id, Role.ADMIN)
                    await uow.security.bump(account.id)  # tokens issued before it: refused
                    account = replace(account, role=Role.ADMIN)
                elif self.allowances.due(account) is None:
                    return account
                account = await self.allowances.apply_in(uow, account)
                await uow.commit()
                return account
        raise RuntimeError(f"could not create an account for {caller.identity}")

    async def _admit_newcomer(self, uow: UnitOfWork, caller: Caller, invite: str | None) -> None:
        if invite is None:
            await self.access.check(uow, caller, None)
            return
        try:
            await self.access.check(uow, caller, None, quietly=True)
        except PrivateBot:
            await self.access.invite_admits(uow, invite)  # the invitation's one use

    async def _create(self, uow: UnitOfWork, caller: Caller) -> Account | None:
        is_admin = caller.identity in self._config.bootstrap_admins
        account = await uow.accounts.create(
            Role.ADMIN if is_admin else self._config.new_account_role
        )
        if not await uow.accounts.add_identity(caller.identity, account.id, caller.display_name):
            return None
        welcome = self._config.welcome_credits
        if welcome:
            await uow.ledger.append(LedgerEntry(account.id, welcome, LedgerKind.WELCOME))
            balance = await uow.accounts.add_to_balance(account.id, welcome)
            account = replace(account, balance=balance)
        logger.info("new account %s for %s", account.id, caller.identity)
        return account

    def language_of(self, account: Account | None, caller: Caller) -> str | None:
        if account is not None and account.language:
            return account.language
        return normalize_language(caller.locale)

    async def note_event(self, caller: Caller, event_id: str | None) -> None:
        """Record the event of a command that changes nothing (/balance, /help…), so a
        redelivery is not answered twice; raises ``DuplicateEvent`` for one."""
        if not event_id:
            return
        async with self._uow() as uow:
            await record_event(uow, caller.platform, event_id)
            await uow.commit()

    async def set_language(
        self, caller: Caller, code: str | None, event_id: str | None = None
    ) -> Account:
        """``code`` None/"auto" goes back to the platform's locale."""
        account = await self.resolve(caller)
        language: str | None = None
        if code and code.lower() != "auto":
            language = normalize_language(code)
            if language is None:
                raise BadArgument(detail=", ".join((*available_languages(), "auto")))
        async with self._uow() as uow:
            await record_event(uow, caller.platform, event_id)
            await uow.accounts.set_language(account.id, language)
            await uow.commit()
        return replace(account, language=language)

    def chat_models(self, account: Account) -> list[ModelSpec]:
        return self._models.usable(account.role, Feature.CHAT)

    def current_chat_model(self, account: Account) -> ModelSpec | None:
        chosen = self._models.get(account.chat_model) if account.chat_model else None
        if chosen is not None and chosen.kind is Feature.CHAT and chosen.allows(account.role):
            return chosen
        default = self._models.default_for(Feature.CHAT)
        if default is not None and default.allows(account.role):
            return default
        usable = self.chat_models(account)
        return usable[0] if usable else None

    async def choose_chat_model(
        self, caller: Caller, name: str, event_id: str | None = None
    ) -> ModelSpec:
        account = await self.resolve(caller)
        model = self._models.get(name.strip())
        if model is None or model.kind is not Feature.CHAT or not model.allows(account.role):
            raise UnknownModel(model=name.strip())
        async with self._uow() as uow:
            await record_event(uow, caller.platform, event_id)
            await uow.accounts.set_chat_model(account.id, model.name)
            await uow.commit()
        return model

    async def create_link_code(self, caller: Caller, event_id: str | None = None) -> str:
        account = await self.resolve(caller)
        await self.note_event(caller, event_id)  # the code lives in KV, not in this database
        return await self._links.create(account.id, self._config.link_code_ttl_s)

    async def link(self, caller: Caller, code: str, event_id: str | None = None) -> Account:
        """Join the caller's account into the one that asked for ``code``.

        Identities, conversations and usage move over; the balance moves through two ledger
        rows so both ledgers still sum to their balances. The stricter ban and the higher
        role win, so linking can neither evade a ban nor lose an admin. A redelivered
        ``event_id`` raises ``DuplicateEvent`` before the (already used) code is looked at."""
        source = await self.resolve(caller)
        async with self._uow() as uow:
            await record_event(uow, caller.platform, event_id)
            target_id = await self._links.consume(code.strip().upper())
            if target_id is None:
                raise LinkCodeInvalid()
            if source.id == target_id:
                raise AlreadyLinked()
            target = await uow.accounts.get(target_id)
            fresh_source = await uow.accounts.get(source.id)
            if target is None or fresh_source is None:
                raise LinkCodeInvalid()
            await self._merge(uow, fresh_source, target)
            await uow.commit()
            merged = await uow.accounts.get(target_id)
        assert merged is not None
        logger.info("linked account %s into %s", source.id, target_id)
        return merged

    async def _merge(self, uow: UnitOfWork, source: Account, target: Account) -> None:
        await uow.accounts.move_identities(source.id, target.id)
        await uow.conversations.move_account(source.id, target.id)
        await uow.usage.move_account(source.id, target.id)
        await uow.chat_settings.move_account(source.id, target.id)
        await uow.gateway_files.move_account(source.id, target.id)
        if source.balance:
            tag = f"link:{source.id}:{target.id}:{datetime.now(UTC).timestamp()}"
            await uow.ledger.append(
                LedgerEntry(source.id, -source.balance, LedgerKind.LINK_OUT, tag)
            )
            await uow.ledger.append(LedgerEntry(target.id, source.balance, LedgerKind.LINK_IN, tag))
            await uow.accounts.add_to_balance(source.id, -source.balance)
            await uow.accounts.add_to_balance(target.id, source.balance)
        if source.role.rank > target.role.rank:
            await uow.accounts.set_role(target.id, source.role)
            await uow.security.bump(target.id)  # tokens issued before it: refused
        if source.banned and not target.banned:
            await uow.accounts.set_banned(target.id, True)
            await uow.security.bump(target.id)  # tokens issued before it: refused

    async def identities_of(self, account: Account) -> list[str]:
        async with self._uow() as uow:
            return [str(i.key) for i in await uow.accounts.identities(account.id)]

    async def erase(self, account_id: int) -> None:
        """Delete the account and everything that is its data (its ledger, messages, usage,
        identities, credentials and tokens, the questions kept for /retry)."""
        async with self._uow() as uow:
            await uow.chat_settings.erase(account_id)
            await uow.leases.erase(account_id)
            await uow.directory.erase(account_id)
            await uow.commit()
        logger.info("account %s erased", account_id)
