"""A person's API keys for /v1, managed like a gateway's virtual keys: each key may carry a
credit budget, an expiry, the models it may use and its own requests-per-minute, and shows
what it has spent, how many requests it made and when it was last used.

The limits are enforced where every paid request passes, not here: expiry when the key
authenticates (``AuthService``), models and rate in the ``Gate``, and the budget in
``Billing.hold_in`` (one guarded UPDATE in the reservation's transaction)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from core.errors import BadArgument, NotFound
from core.models_config import ModelCatalog, ModelSpec
from core.ports import ApiKeyRecord, KeyOptions, UnitOfWorkFactory
from core.services.auth import API_KEY_PREFIX, Principal, digest
from core.types import Feature


@dataclass(frozen=True, slots=True)
class NewApiKey:
    record: ApiKeyRecord
    key: str  # shown once, never stored


class ApiKeyService:
    def __init__(self, uow: UnitOfWorkFactory, models: ModelCatalog) -> None:
        self._uow = uow
        self._models = models

    async def create(
        self, principal: Principal, name: str | None, options: KeyOptions
    ) -> NewApiKey:
        self._check(options)
        key = API_KEY_PREFIX + secrets.token_urlsafe(32)
        async with self._uow() as uow:
            key_id = await uow.api_keys.add(
                principal.credential.id, digest(key), key[:10], name or None, options
            )
            await uow.commit()
            record = await uow.api_keys.get(principal.credential.id, key_id)
        assert record is not None
        return NewApiKey(record, key)

    async def keys(self, principal: Principal) -> list[ApiKeyRecord]:
        async with self._uow() as uow:
            return await uow.api_keys.list(principal.credential.id)

    async def get(self, principal: Principal, key_id: int) -> ApiKeyRecord:
        async with self._uow() as uow:
            record = await uow.api_keys.get(principal.credential.id, key_id)
        if record is None:
            raise NotFound()
        return record

    async def update(self, principal: Principal, key_id: int, options: KeyOptions) -> ApiKeyRecord:
        """Change the limits ``options.given`` names. The next request made with the key
        sees them: every request reads its key afresh when it authenticates."""
        self._check(options)
        async with self._uow() as uow:
            if not await uow.api_keys.update(principal.credential.id, key_id, options):
                raise NotFound()
            await uow.commit()
            record = await uow.api_keys.get(principal.credential.id, key_id)
        assert record is not None
        return record

    async def revoke(self, principal: Principal, key_id: int) -> None:
        async with self._uow() as uow:
            if not await uow.api_keys.revoke(principal.credential.id, key_id):
                raise NotFound()
            await uow.commit()

    def usable_models(self, principal: Principal) -> list[ModelSpec]:
        """The models the account's role may use, narrowed to the key's, if it names any."""
        key, role = principal.caller.api_key, principal.account.role
        return [
            model
            for kind in Feature
            for model in self._models.usable(role, kind)
            if key is None or key.allows_model(model.name)
        ]

    def _check(self, options: KeyOptions) -> None:
        # A misspelt model would make a key that can use nothing: refuse it up front.
        unknown = sorted(n for n in options.models or () if self._models.get(n) is None)
        if unknown:
            raise BadArgument(detail=f"models: unknown model {', '.join(unknown)}")
        if options.models is not None and not options.models:
            raise BadArgument(detail="models: give at least one model, or null for any")
