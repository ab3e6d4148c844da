"""The door every paid request goes through: account, ban, model, rate and in-flight limits.

Input checks happen before this (in each use case), the reservation after it, so a
refusal here costs nothing and reaches no upstream."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from core.errors import (
    Banned,
    KeyModelNotAllowed,
    NotAllowed,
    ShuttingDown,
    Unauthenticated,
    UnknownModel,
)
from core.models_config import ModelCatalog, ModelSpec
from core.ports import RateLimiter, UnitOfWork, UnitOfWorkFactory
from core.services.accounts import AccountService
from core.services.billing import uncancellable
from core.services.config import CoreConfig
from core.services.request_slots import RequestSlots
from core.services.requests import PaidRequest
from core.types import Account, Feature, KeyLimits

logger = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Admitted:
    account: Account
    model: ModelSpec


class Gate:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        accounts: AccountService,
        limiter: RateLimiter,
        models: ModelCatalog,
        config: CoreConfig,
    ) -> None:
        self._uow = uow
        self._closed = False
        # Requests admitted by this process and not finished: what a shutdown waits for.
        self.in_flight: set[str] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        self._accounts = accounts
        # The rate and in-flight limits, shared with the calls no gate admits (/v1/files).
        self._slots = RequestSlots(limiter, config)
        self._models = models
        self._config = config
        # Told when an admitted request has ended and settled (admin notices: zero_balance).
        self.after_request: Callable[[Account], Coroutine[object, object, None]] | None = None

    def pick_model(self, account: Account, kind: Feature, requested: str | None) -> ModelSpec:
        if requested:
            model = self._models.get(requested)
            if model is None or model.kind is not kind:
                raise UnknownModel(model=requested)
        elif kind is Feature.CHAT:
            current = self._accounts.current_chat_model(account)
            if current is None:
                raise NotAllowed()
            model = current
        else:
            default = self._models.default_for(kind)
            candidates = ([default] if default else []) + self._models.usable(account.role, kind)
            found = next((m for m in candidates if m.allows(account.role)), None)
            if found is None:
                raise NotAllowed()
            model = found
        if not model.allows(account.role):
            raise NotAllowed()
        return model

    @asynccontextmanager
    async def admit(
        self,
        request: PaidRequest,
        kind: Feature,
        reserve: Callable[[UnitOfWork, Admitted], Awaitable[T]],
        *,
        atomic: bool = True,
    ) -> AsyncIterator[tuple[Admitted, T]]:
        """Admit a request and run ``reserve`` (which commits) in the same transaction as
        the account lookup; the rate-limit slot is held until the block ends.

        One transaction instead of two is a third of the database round trips of a chat
        request. First contact (or a bootstrap admin's promotion) takes a separate write,
        after which the lookup runs again. ``atomic=False`` (the /v1 gateway: reads, then
        one whole write) needs no transaction at all: no BEGIN/COMMIT where the database
        allows."""
        if self._closed:
            raise ShuttingDown()
        known = request.caller.account  # read by authentication in this request, if any
        for _ in range(3):
            async with self._uow(atomic=atomic) as uow:
                account = known or await uow.accounts.find_by_identity(request.caller.identity)
                known = None  # after a resolve(), the account is read afresh
                if account is not None and not self._accounts.needs_update(account, request.caller):
                    # In this transaction: a /block on any worker refuses the next request.
                    await self._accounts.access.check(uow, request.caller, account)
                    admitted = await self._check(account, kind, request)
                    try:
                        reserved = await reserve(uow, admitted)
                    except BaseException:
                        await uncancellable(self._release(account.id, request.request_id))
                        raise
                    break
            await self._accounts.resolve(request.caller)
        else:
            raise RuntimeError(f"could not admit {request.caller.identity}")
        self.in_flight.add(request.request_id)
        self._idle.clear()
        try:
            yield admitted, reserved
        finally:
            self.in_flight.discard(request.request_id)
            if not self.in_flight:
                self._idle.set()
            await uncancellable(self._release(account.id, request.request_id))
            if self.after_request is not None:
                await uncancellable(self.after_request(account))

    def close(self) -> None:
        """Admit nothing more (a shutdown has begun); running requests go on."""
        self._closed = True

    async def wait_idle(self, timeout_s: float) -> bool:
        """Wait until no admitted request is running; False if ``timeout_s`` passed first."""
        try:
            async with asyncio.timeout(timeout_s):
                await self._idle.wait()
        except TimeoutError:
            return False
        return True

    async def _check(self, account: Account, kind: Feature, request: PaidRequest) -> Admitted:
        if account.banned:
            raise Banned()
        model = self.pick_model(account, kind, request.model)
        if request.caller.api_key is not None:
            # Before any slot is taken: a refusal here leaves nothing to release.
            _check_key(request.caller.api_key, model)
        # The key's own rate (under its negative id), then the account's rate and slot.
        await self._slots.acquire(account, request.caller.api_key, request.request_id)
        return Admitted(account, model)

    async def _release(self, account_id: int, request_id: str) -> None:
        await self._slots.release(account_id, request_id)


def _check_key(key: KeyLimits, model: ModelSpec) -> None:
    """The key's expiry and models; its rate is counted with the account's
    (``RequestSlots``), its budget held later with the account's credits."""
    if key.expired(datetime.now(UTC)):
        raise Unauthenticated()
    if not key.allows_model(model.name):
        raise KeyModelNotAllowed(model=model.name)
