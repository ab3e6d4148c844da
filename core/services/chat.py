"""Chat: one question in, a stream of reply events out, paid from real usage.

``start`` validates, admits and reserves in one awaited call, so every refusal is raised
before an adapter shows anything; it returns a ``ChatReply`` whose events are streamed and
which settles when closed. The upstream stream is read by a pump task into a queue, so a
Stop flag (set from any worker) is noticed even while the upstream is silent, and a
consumer that goes away cancels the upstream request."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Mapping, Sequence
from contextlib import AsyncExitStack, aclosing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from core.errors import CoreError, EmptyInput, InputTooLong, UpstreamBadRequest, UpstreamError
from core.models_config import ModelCatalog, ModelSpec
from core.money import estimate_tokens, price_of
from core.observability import bind_request_id
from core.ports import ModelProvider, StopSignals, UnitOfWork, UnitOfWorkFactory
from core.services.billing import Billing, Hold, Settlement, uncancellable
from core.services.chat_reply import ChatReply
from core.services.chat_settings import ChatSettingsService, Effective
from core.services.config import CoreConfig
from core.services.gate import Admitted, Gate
from core.services.requests import ChatRequest, Quote
from core.types import (
    ChatChunk,
    ChatMessage,
    ConversationKey,
    Feature,
    Outcome,
    ReplyEvent,
    StoredMessage,
    TextDelta,
    TextDone,
    Usage,
)

logger = logging.getLogger(__name__)


def estimate_prompt_tokens(messages: Sequence[ChatMessage]) -> int:
    # The chat format adds a few tokens of framing per message.
    return sum(estimate_tokens(m.content) + 4 for m in messages)


def chat_cost(model: ModelSpec, usage: Usage) -> int:
    return price_of(usage.prompt_tokens, model.input_per_1k) + price_of(
        usage.completion_tokens, model.output_per_1k
    )


@dataclass(slots=True)
class _Progress:
    """What the upstream has produced so far; read in ``finally`` to price the request."""

    model: ModelSpec
    text: str = ""
    usage: Usage | None = None
    started: bool = False  # the events were read, so the upstream was called
    finished: bool = False
    failed: bool = False


@dataclass(frozen=True, slots=True)
class _Reserved:
    conversation: ConversationKey
    messages: list[ChatMessage]
    hold: Hold
    model: ModelSpec
    effective: Effective


def _words(text: str) -> str:
    return "".join(c for c in text.casefold() if c.isalnum())


def _in_window(quote: Quote, window: Sequence[StoredMessage]) -> bool:
    """A quote of one of the bot's answers the context already carries: sent once.
    Compared by letters and digits only, since the platform shows the answer formatted:
    the quote is part of the answer, or the answer with a cost line or note after it."""
    quoted = _words(quote.text)
    answers = (_words(m.content) for m in window if m.role == "assistant")
    return bool(quoted) and any(a and (quoted in a or quoted.startswith(a)) for a in answers)


def with_quotes(text: str, quoted: Sequence[Quote], limit: int) -> str:
    """The question after the messages it replies to (oldest first, each a quote block),
    the quotes cut to ``limit`` characters in all. Only the question itself is stored."""
    blocks: list[str] = []
    room = limit
    for quote in quoted:  # nearest first: the nearest is kept when room runs out
        body = quote.text.strip()[:room]
        if not body:
            continue
        room -= len(body)
        who = f"{quote.author} wrote" if quote.author else "Quoted message"
        lines = (f"> {line}".rstrip() for line in body.splitlines())
        blocks.append(f"[{who}:]\n" + "\n".join(lines))
    if not blocks:
        return text
    return "\n\n".join([*reversed(blocks), text])


_END = object()
_STOP = object()


class ChatService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        gate: Gate,
        billing: Billing,
        providers: Mapping[str, ModelProvider],
        models: ModelCatalog,
        stops: StopSignals,
        config: CoreConfig,
        settings: ChatSettingsService,
    ) -> None:
        self._uow = uow
        self._settings = settings
        self._gate = gate
        self._billing = billing
        self._providers = providers
        self._models = models
        self._stops = stops
        self._config = config

    async def stop(self, request_id: str) -> None:
        await self._stops.request_stop(request_id)

    async def redelivery_wanted(self, platform: str, event_id: str) -> bool:
        """Whether a redelivered event should be handled again: its first processing
        died unanswered (a dead worker's hold, refunded). Adapters that drop redeliveries
        early (Telegram's update dedupe) ask this before dropping one; ``start`` still
        lets exactly one through."""
        async with self._uow() as uow:
            return await uow.events.is_abandoned(platform, event_id)

    async def start(self, request: ChatRequest) -> ChatReply:
        """Admit and reserve; raises every refusal (nothing charged, nothing shown).

        Use the result as ``async with reply:`` and read ``reply.events`` inside.

        Admission always runs to its end, even when the caller is cancelled meanwhile (a
        client that left, a shutdown): cancelled after its transaction reserved the credits
        but before the reply existed, nobody would own the hold until the sweep. A reply
        admitted for a caller already gone is closed at once (the model was never asked:
        the hold is refunded, the slot freed) and the cancellation goes on."""
        # Bound here, in the caller's context: the admission task gets a copy of it, and
        # the caller's own later lines (the stream, the relay) must carry the id too.
        bind_request_id(request.request_id)
        admission = asyncio.ensure_future(self._admit(request))
        try:
            return await asyncio.shield(admission)
        except asyncio.CancelledError:
            await uncancellable(_close_when_admitted(admission))
            raise

    async def _admit(self, request: ChatRequest) -> ChatReply:
        text = request.text.strip()
        if not text:
            raise EmptyInput()
        if len(text) > self._config.max_input_chars:
            raise InputTooLong(length=len(text), limit=self._config.max_input_chars)

        async def reserve(uow: UnitOfWork, admitted: Admitted) -> _Reserved:
            account = admitted.account
            conversation = ConversationKey(request.caller.platform, request.chat_id, account.id)
            where = request.settings_chat_id or request.chat_id
            scope = ConversationKey(request.caller.platform, where, account.id)
            effective = await self._settings.effective(uow, account, scope)
            model = effective.model(account, admitted.model, self._models)
            window = await self._window(uow, conversation)
            system = effective.system_prompt(self._config.system_prompt)
            quoted = [q for q in request.quoted if not _in_window(q, window)]
            messages = self._prompt(system, window, text, quoted)
            worst = Usage(estimate_prompt_tokens(messages), model.max_output_tokens)
            hold = await self._billing.hold_in(
                uow, account, request, chat_cost(model, worst), Feature.CHAT, model.name
            )
            return _Reserved(conversation, messages, hold, model, effective)

        admission = AsyncExitStack()
        try:
            _, reserved = await admission.enter_async_context(
                self._gate.admit(request, Feature.CHAT, reserve)
            )
        except BaseException:
            await admission.aclose()
            raise
        conversation, messages, hold = reserved.conversation, reserved.messages, reserved.hold
        progress = _Progress(model=reserved.model)
        settled: list[Settlement] = []

        async def settle() -> Settlement:
            # Once per request, whichever comes first: the end of the stream (so TextDone
            # carries the charge) or the reply being closed early.
            if not settled:
                settled.append(_settlement(progress, messages, conversation, text))
                await self._billing.settle(hold, settled[0])
            return settled[0]

        async def events() -> AsyncGenerator[ReplyEvent, None]:
            progress.started = True
            async for event in self._from_upstream(hold.request_id, messages, progress):
                yield event
            done = await settle()
            yield TextDone(progress.text, done.charge, done.usage, done.outcome)

        return ChatReply(hold.request_id, events(), settle, admission, reserved.effective)

    async def ask(self, request: ChatRequest) -> AsyncGenerator[ReplyEvent, None]:
        """``start`` and its events as one generator: refusals are raised at the first
        event. For callers that need no separate admission step."""
        reply = await self.start(request)
        async with reply:
            async for event in reply.events:
                yield event

    async def _window(self, uow: UnitOfWork, conversation: ConversationKey) -> list[StoredMessage]:
        """The stored context, reset first when it went quiet for ``context_idle_minutes``
        (in the admission's transaction: a refused question leaves it as it was)."""
        window = await uow.conversations.window(conversation, self._config.context_messages)
        idle = self._config.context_idle_minutes
        if idle > 0 and window:
            last = window[-1].created_at
            if last is not None and datetime.now(UTC) - last > timedelta(minutes=idle):
                await uow.conversations.reset(conversation)
                return []
        return window

    def _prompt(
        self, system: str, window: list[StoredMessage], text: str, quoted: Sequence[Quote]
    ) -> list[ChatMessage]:
        return [
            ChatMessage("system", system),
            *(ChatMessage(m.role, m.content) for m in window),
            ChatMessage("user", with_quotes(text, quoted, self._config.max_input_chars)),
        ]

    async def _from_upstream(
        self, request_id: str, messages: list[ChatMessage], progress: _Progress
    ) -> AsyncGenerator[ReplyEvent, None]:
        queue: asyncio.Queue[object] = asyncio.Queue()
        pump = asyncio.create_task(self._pump(messages, queue, progress))
        watcher = asyncio.create_task(self._watch_stop(request_id, queue))
        try:
            while True:
                item = await queue.get()
                if item is _END:
                    progress.finished = True
                    return
                if item is _STOP:
                    return
                if isinstance(item, BaseException):
                    progress.failed = isinstance(item, UpstreamError)
                    if progress.failed and progress.text:
                        logger.warning(
                            "upstream stream cut after %d chars: %s", len(progress.text), item
                        )
                        return
                    raise item
                assert isinstance(item, ChatChunk)
                if item.usage is not None:
                    progress.usage = item.usage
                if item.text:
                    progress.text += item.text
                    yield TextDelta(item.text, progress.text)
        finally:
            pump.cancel()
            watcher.cancel()
            await asyncio.gather(pump, watcher, return_exceptions=True)

    async def _pump(
        self, messages: list[ChatMessage], queue: asyncio.Queue[object], progress: _Progress
    ) -> None:
        """Stream from the model, falling back to the next model only before any output."""
        first = progress.model
        candidates = [first, *(m for n in first.fallbacks if (m := self._models.get(n)))]
        produced = False
        for index, model in enumerate(candidates):
            progress.model = model
            try:
                provider = self._providers[model.provider]
                stream = provider.stream_chat(model.upstream, messages, model.max_output_tokens)
                async with aclosing(stream) as chunks:
                    async for chunk in chunks:
                        produced = produced or bool(chunk.text)
                        await queue.put(chunk)
                await queue.put(_END)
                return
            except UpstreamError as exc:
                last = index == len(candidates) - 1
                if produced or last or isinstance(exc, UpstreamBadRequest):
                    await queue.put(exc)
                    return
                logger.warning(
                    "model %s failed before output (%s); trying %s",
                    model.name,
                    exc,
                    candidates[index + 1].name,
                )
            except Exception as exc:  # the task's edge: hand it to the consumer, don't hang it
                logger.exception("chat pump failed")
                await queue.put(exc)
                return

    async def _watch_stop(self, request_id: str, queue: asyncio.Queue[object]) -> None:
        while True:
            await asyncio.sleep(self._config.stop_poll_s)
            if await self._stops.is_stopped(request_id):
                await queue.put(_STOP)
                return


async def _close_when_admitted(admission: asyncio.Future[ChatReply]) -> None:
    try:
        reply = await admission
    except CoreError as exc:  # refused: nothing was reserved, and nobody is left to tell
        logger.info("caller left before its refusal (%s)", exc.key)
        return
    logger.info("caller left during admission: request %s closed unread", reply.request_id)
    await reply.aclose()


def _settlement(
    progress: _Progress, messages: list[ChatMessage], conversation: ConversationKey, question: str
) -> Settlement:
    estimated = Usage(estimate_prompt_tokens(messages), estimate_tokens(progress.text))
    if not progress.started:
        # Closed before its events were read (the adapter could not show anything): the
        # model was never asked, so nothing is owed.
        usage, outcome = Usage(0, 0), Outcome.STOPPED
    elif progress.finished:
        if progress.usage is None:
            logger.info("upstream reported no usage; charging an estimate")
        usage, outcome = progress.usage or estimated, Outcome.OK
    elif progress.failed and not progress.text:
        usage, outcome = Usage(0, 0), Outcome.FAILED
    else:
        # Cut, stopped, or the consumer went away: the prompt was read and the text made.
        usage, outcome = estimated, Outcome.CUT if progress.failed else Outcome.STOPPED
    return Settlement(
        charge=chat_cost(progress.model, usage),
        outcome=outcome,
        usage=usage,
        model=progress.model.name,
        conversation=conversation,
        question=question,
        answer=progress.text,
    )
