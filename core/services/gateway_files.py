"""/v1/files relayed to a provider, each file owned by the account that uploaded it.

The provider sees one API key for everyone, so ownership lives here: a row per file
(provider file id → account). Another account asking for a file, its content or its
deletion gets the same 404 as for a file that does not exist, and the list shows each
account its own files only. Files go to the provider of the default chat model (the
one a later ``file_id`` in a chat or response is most likely sent to).

Uploads are free unless the operator prices them (``gateway_file_micro_per_mb``, per
started megabyte of the file; OpenAI charges storage, not uploads, and we do not meter
storage). A priced upload goes through the gate like every paid /v1 call: the whole
price is reserved before the provider is asked, settled when it took the file and
refunded when it did not, and recorded as a ``files`` usage event. The other calls
(list, retrieve, content, delete) are never billed.

Free is not unlimited: every call counts against the API key's and the account's
requests per minute and holds one of the account's in-flight slots while it runs
(``RequestSlots``, the gate's limiter; a priced upload takes its slot in the gate
instead), and an account keeps at most ``gateway_files_per_account`` files: the upload
past it is refused before the provider sees it."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import quote

from core.errors import Banned, NotFound, StorageUnavailable, TooManyFiles, UpstreamError
from core.models_config import ModelCatalog
from core.ports import (
    FormPart,
    GatewayFile,
    GatewayUpstream,
    JsonObject,
    RawAnswer,
    UnitOfWorkFactory,
)
from core.services.billing import uncancellable
from core.services.config import CoreConfig
from core.services.gateway_paid import FormRequest, PaidRelay, named
from core.services.request_slots import RequestSlots
from core.types import Account, Feature, KeyLimits, Outcome

# Asked of the upstream when listing, so that filtering by owner rarely hides a page.
UPSTREAM_PAGE = 10_000
MEGABYTE = 1024 * 1024  # as MAX_AUDIO_MB and the other size settings count them


def megabytes_started(size: int) -> int:
    """1 for an empty file too: every upload that reaches the provider is one."""
    return max(1, math.ceil(size / MEGABYTE))


def file_bytes(parts: tuple[FormPart, ...]) -> int:
    return sum(len(p.value) for p in parts if p.name == "file" and p.filename is not None)


class GatewayFiles:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        paid: PaidRelay,
        models: ModelCatalog,
        slots: RequestSlots,
        config: CoreConfig,
    ) -> None:
        self._uow = uow
        self._paid = paid
        self._slots = slots
        self._most = config.gateway_files_per_account
        self._per_mb = config.gateway_file_micro_per_mb
        default = models.default_for(Feature.CHAT)
        self._provider = default.provider if default is not None else "openai"
        # The gate admits a priced upload on a model: the one whose provider keeps files.
        self._model = default.name if default is not None else None

    def _upstream(self, provider: str) -> GatewayUpstream:
        return self._paid.upstream_for(provider, "files", provider)

    async def upload(self, account: Account, request: FormRequest) -> JsonObject:
        """``account``: the caller's, as authentication read it."""
        _not_banned(account)
        if self._per_mb == 0:
            async with self._slots.held(account, request.caller.api_key):
                return await self._upload(account, request.parts)
        return await self._paid_upload(account, request)

    async def _paid_upload(self, account: Account, request: FormRequest) -> JsonObject:
        # Before the gate: an upload past the cap reserves nothing and leaves no usage.
        await self._check_room(account)
        price = self._per_mb * megabytes_started(file_bytes(request.parts))
        # The gate takes the account's (and the key's) slot: none taken here besides.
        async with self._paid.door(
            replace(request, model=self._model),
            Feature.FILES,
            "files",
            lambda _: price,
            admit_as=Feature.CHAT,
            whole=True,
        ) as door:
            charge, outcome = 0, Outcome.FAILED
            try:
                answer = await self._upload(account, request.parts)
                charge, outcome = price, Outcome.OK
                return answer
            finally:
                await self._paid.settle(door, charge, outcome)

    async def _check_room(self, account: Account) -> None:
        async with self._uow() as uow:
            kept = len(await uow.gateway_files.owned(account.id))
        # Two uploads racing at the cap may both pass: the account's in-flight limit
        # bounds how far past it that can go.
        if kept >= self._most:
            raise TooManyFiles(limit=self._most)

    async def _upload(self, account: Account, parts: tuple[FormPart, ...]) -> JsonObject:
        """Checks the cap again inside the slot (a priced upload checked it before the
        gate too): the read is cheap, and a racing upload may have filled the room."""
        upstream = self._upstream(self._provider)
        await self._check_room(account)
        with named(self._provider):
            answer = _json(await upstream.post_form("/files", parts))
        file_id = answer.get("id")
        if not isinstance(file_id, str) or not file_id:
            raise UpstreamError("file upload answer carries no id")
        record = GatewayFile(file_id, account.id, self._provider, datetime.now(UTC))
        try:
            async with self._uow() as uow:
                await uow.gateway_files.add(record)
                await uow.commit()
        except StorageUnavailable:
            # Unowned, nobody could reach it again: take it back from the provider.
            await uncancellable(upstream.delete_json(f"/files/{quote(file_id, safe='')}"))
            raise
        return answer

    async def list(
        self, account: Account, key: KeyLimits | None, query: Mapping[str, str]
    ) -> JsonObject:
        """The account's files among the provider's; ``after`` and ``limit`` applied
        here, after filtering, so that other accounts' files never shorten a page."""
        _not_banned(account)
        async with self._slots.held(account, key):
            return await self._list(account, query)

    async def _list(self, account: Account, query: Mapping[str, str]) -> JsonObject:
        async with self._uow() as uow:
            mine = {f.file_id for f in await uow.gateway_files.owned(account.id)}
        upstream_query = {k: v for k, v in query.items() if k in ("purpose", "order")}
        upstream_query["limit"] = str(UPSTREAM_PAGE)
        with named(self._provider):
            answer = await self._upstream(self._provider).get_json("/files", upstream_query)
        data = answer.get("data")
        files = (
            [f for f in data if isinstance(f, dict) and f.get("id") in mine]
            if isinstance(data, list)
            else []
        )
        after = query.get("after")
        if after:
            ids = [f.get("id") for f in files]
            files = files[ids.index(after) + 1 :] if after in ids else []
        asked = query.get("limit", "")
        limit = int(asked) if asked.isdigit() and int(asked) > 0 else UPSTREAM_PAGE
        page = files[:limit]
        return {
            "object": "list",
            "data": page,
            "first_id": page[0].get("id") if page else None,
            "last_id": page[-1].get("id") if page else None,
            "has_more": len(files) > len(page),
        }

    async def retrieve(self, account: Account, key: KeyLimits | None, file_id: str) -> JsonObject:
        _not_banned(account)
        async with self._slots.held(account, key):
            record = await self._owned(account, file_id)
            path = f"/files/{quote(file_id, safe='')}"
            with named(record.provider):
                return await self._upstream(record.provider).get_json(path, {})

    async def content(self, account: Account, key: KeyLimits | None, file_id: str) -> RawAnswer:
        _not_banned(account)
        async with self._slots.held(account, key):
            record = await self._owned(account, file_id)
            path = f"/files/{quote(file_id, safe='')}/content"
            with named(record.provider):
                return await self._upstream(record.provider).get_raw(path)

    async def delete(self, account: Account, key: KeyLimits | None, file_id: str) -> JsonObject:
        _not_banned(account)
        async with self._slots.held(account, key):
            record = await self._owned(account, file_id)
            path = f"/files/{quote(file_id, safe='')}"
            with named(record.provider):
                answer = await self._upstream(record.provider).delete_json(path)
            async with self._uow() as uow:
                await uow.gateway_files.remove(file_id, record.provider)
                await uow.commit()
            return answer

    async def _owned(self, account: Account, file_id: str) -> GatewayFile:
        async with self._uow() as uow:
            record = await uow.gateway_files.get(file_id, self._provider)
        if record is None or record.account_id != account.id:
            raise NotFound()  # the same answer whether it is someone else's or nobody's
        return record


def _not_banned(account: Account) -> None:
    if account.banned:
        raise Banned()


def _json(answer: RawAnswer) -> JsonObject:
    try:
        payload = json.loads(answer.body)
    except ValueError:
        raise UpstreamError("malformed JSON from /files") from None
    if not isinstance(payload, dict):
        raise UpstreamError("unexpected JSON from /files")
    return payload
