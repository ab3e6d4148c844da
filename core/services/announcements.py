"""``/broadcast``: an admin's announcement, previewed, confirmed, then delivered privately
to each person through the platform they used last.

The delivery list is written in the database when the admin presses Send, so the sending
survives a restart: a worker takes a broadcast under a short lease (renewed every batch),
and when a worker dies another one takes the lease over once it expires and goes on with
the deliveries still pending. Delivery is at least once: a message sent just before a kill,
whose row was not yet marked, is sent again (at most one per broadcast, since each worker
sends one message at a time). Pacing under each platform's limits is the messenger's job
(``core.ports.PrivateMessenger``); the final report goes to the admin who sent it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from core.errors import BadArgument, NotFound, StorageUnavailable
from core.i18n import Translator
from core.ports import (
    Broadcast,
    DeliveryOutcome,
    PrivateMessenger,
    Reachable,
    Recipient,
    UnitOfWorkFactory,
)
from core.services.admin import AdminService
from core.services.events import record_event
from core.services.requests import Caller
from core.types import IdentityKey, Role

logger = logging.getLogger(__name__)

# Where people can be written to privately (the API and the console have no such chat).
CHAT_PLATFORMS = frozenset({"telegram", "discord", "slack"})
MAX_BROADCAST_CHARS = 3500  # one message on every platform (Discord's 2000 is split there)
CONFIRM = "confirm"
SKIP_S = 10.0


@dataclass(frozen=True, slots=True)
class Draft:
    id: int
    text: str
    audience: str
    people: int


def pick_identity(person: Reachable, platforms: Collection[str]) -> IdentityKey | None:
    """The identity on the platform the person used last, else their newest reachable one."""
    usable = [i for i in person.identities if i.platform in platforms]
    for identity in usable:
        if identity.platform == person.last_platform:
            return identity
    return usable[0] if usable else None


def parse_audience(args: str) -> tuple[str, str]:
    """``[role|platform] <text>`` → (audience, text); audience "" is everyone."""
    head, _, rest = args.strip().partition(" ")
    if head.lower() in {r.value for r in Role} | CHAT_PLATFORMS and rest.strip():
        return head.lower(), rest.strip()
    return "", args.strip()


class Announcements:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        admin: AdminService,
        messengers: Mapping[str, PrivateMessenger],
        *,
        lease_s: float = 30.0,
        batch: int = 50,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._uow = uow
        self._admin = admin
        self._messengers = messengers
        self._lease = timedelta(seconds=lease_s)
        self._batch = batch
        self._clock = clock
        self._wake = asyncio.Event()
        # Broadcasts whose remaining deliveries are for platforms this worker lacks.
        self._skipped: dict[int, float] = {}

    async def _recipients(self, audience: str) -> list[Recipient]:
        role = Role(audience) if audience in {r.value for r in Role} else None
        platforms = {audience} if audience in CHAT_PLATFORMS else CHAT_PLATFORMS
        async with self._uow() as uow:
            reachable = await uow.announcements.reachable(role)
        recipients = []
        for person in reachable:
            identity = pick_identity(person, platforms)
            if identity is not None:
                recipients.append(Recipient(person.account_id, identity, person.language))
        return recipients

    async def draft(self, caller: Caller, args: str, event_id: str | None = None) -> Draft:
        """``/broadcast [role|platform] <text>``: store a draft and say whom it would reach."""
        actor = await self._admin.require_admin(caller, "broadcast")
        audience, text = parse_audience(args)
        if not text:
            raise BadArgument(detail="/broadcast [role|platform] <text>")
        if len(text) > MAX_BROADCAST_CHARS:
            raise BadArgument(detail=f"at most {MAX_BROADCAST_CHARS} characters")
        people = len(await self._recipients(audience))
        async with self._uow() as uow:
            await record_event(uow, caller.platform, event_id)
            draft_id = await uow.announcements.create(actor.id, text, audience)
            await uow.commit()
        return Draft(draft_id, text, audience, people)

    async def confirm(
        self, caller: Caller, draft_id: int | None = None, event_id: str | None = None
    ) -> Draft:
        """The Send button (or ``/broadcast confirm``: the admin's latest draft). A second
        press finds the broadcast started and raises ``NotFound``."""
        actor = await self._admin.require_admin(caller, "broadcast")
        async with self._uow() as uow:
            if draft_id is None:
                found = await uow.announcements.latest_draft(actor.id)
            else:
                found = await uow.announcements.get(draft_id)
        if found is None or found.state != "draft":
            raise NotFound()
        recipients = await self._recipients(found.audience)
        async with self._uow() as uow:
            await record_event(uow, caller.platform, event_id)
            if not await uow.announcements.start(found.id, recipients):
                raise NotFound()
            await uow.commit()
        logger.info(
            "admin %s started broadcast %s to %d people", actor.id, found.id, len(recipients)
        )
        self._wake.set()
        return Draft(found.id, found.text, found.audience, len(recipients))

    async def run(self, worker_id: str, idle_s: float = 2.0) -> None:
        """The background job of every worker: deliver what is pending, else wait."""
        while True:
            try:
                busy = await self.deliver_some(worker_id)
            except StorageUnavailable:  # an outage is expected: one line, no traceback
                logger.warning("broadcast delivery skipped: the database is unavailable")
                busy = False
            except Exception:  # the edge of a background job: log, wait, go on
                logger.exception("broadcast delivery failed; retrying")
                busy = False
            if not busy:
                self._wake.clear()
                # Idle: wait for a new broadcast or the next round, whichever is first.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(idle_s):
                        await self._wake.wait()

    async def deliver_some(self, worker_id: str) -> bool:
        """One batch of one broadcast under this worker's lease; False when idle.

        A worker delivers only on the platforms it runs; when what is left is for other
        platforms it releases the lease and leaves that broadcast alone for a while, so
        a worker that runs them takes it over."""
        if not self._messengers:
            return False
        now = self._clock()
        skip = [i for i, until in self._skipped.items() if until > time.monotonic()]
        async with self._uow() as uow:
            broadcast = await uow.announcements.claim(worker_id, now, now + self._lease, skip)
            await uow.commit()
            if broadcast is None:
                return False
            here = sorted(self._messengers)
            batch = await uow.announcements.pending(broadcast.id, self._batch, here)
        if not batch:
            return await self._finish_or_release(broadcast, worker_id)
        for recipient in batch:
            outcome = await self._send(recipient, broadcast.text)
            async with self._uow() as uow:
                await uow.announcements.mark(broadcast.id, recipient.account_id, outcome.value)
                await uow.commit()
        return True

    async def _finish_or_release(self, broadcast: Broadcast, worker_id: str) -> bool:
        async with self._uow() as uow:
            left = (await uow.announcements.counts(broadcast.id)).get("pending", 0)
            if left:
                await uow.announcements.release(broadcast.id, worker_id)
                await uow.commit()
        if left:
            self._skipped[broadcast.id] = time.monotonic() + SKIP_S
            return False
        await self._finish(broadcast)
        return True

    async def _send(self, recipient: Recipient, text: str) -> DeliveryOutcome:
        messenger = self._messengers.get(recipient.identity.platform)
        if messenger is None:
            logger.warning(
                "no %s adapter in this worker: delivery failed", recipient.identity.platform
            )
            return DeliveryOutcome.FAILED
        return await messenger.send_private(recipient.identity, text)

    async def _finish(self, broadcast: Broadcast) -> None:
        async with self._uow() as uow:
            counts = await uow.announcements.counts(broadcast.id)
            await uow.announcements.finish(broadcast.id)
            await uow.commit()
            admins = await uow.announcements.reachable(None, admins_only=True)
        logger.info("broadcast %s done: %s", broadcast.id, counts)
        actor = next((a for a in admins if a.account_id == broadcast.actor_id), None)
        reachable_here = CHAT_PLATFORMS & set(self._messengers)
        identity = pick_identity(actor, reachable_here) if actor is not None else None
        if actor is None or identity is None:
            return
        t = Translator(actor.language)
        report = t(
            "notice.broadcast_done",
            id=broadcast.id,
            delivered=counts.get("delivered", 0),
            failed=counts.get("failed", 0),
            blocked=counts.get("blocked", 0),
        )
        await self._send(Recipient(actor.account_id, identity, actor.language), report)

    async def report(self, broadcast_id: int) -> dict[str, int]:
        """Deliveries by state (pending, delivered, failed, blocked)."""
        async with self._uow() as uow:
            return await uow.announcements.counts(broadcast_id)

    async def status(self, caller: Caller, broadcast_id: int) -> tuple[Broadcast, dict[str, int]]:
        """A broadcast and its deliveries so far, for admins (the HTTP API)."""
        await self._admin.require_admin(caller, "broadcast")
        async with self._uow() as uow:
            found = await uow.announcements.get(broadcast_id)
            if found is None:
                raise NotFound()
            return found, await uow.announcements.counts(broadcast_id)
