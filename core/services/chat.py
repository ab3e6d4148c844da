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
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from core.errors import (
    BadImage,
    EmptyInput,
    InputTooLong,
    NothingToRetry,
    UpstreamBadRequest,
    UpstreamError,
    VisionUnavailable,
    VisionUnsupported,
)
from core.models_config import ModelCatalog, ModelSpec
from core.money import estimate_tokens, price_of
from core.observability import bind_request_id
from core.ports import ModelProvider, StopSignals, UnitOfWork, UnitOfWorkFactory
from core.services.attachments import (
    Prepared,
    image_tokens,
    prepare,
    size_refusal,
    stored_marker,
)
from core.services.billing import Billing, Hold, Settlement
from core.services.chat_reply import ChatReply, admit_to_the_end
from core.services.chat_settings import ChatSettingsService, Effective
from core.services.config import CoreConfig
from core.services.gate import Admitted, Gate
from core.services.images_in import downscale
from core.services.progress import HoldProgress
from core.services.requests import ChatRequest, Quote
from core.services.spend_cap import least_hold, output_cap, prompt_cost
from core.services.tasks import cancel_and_wait
from core.types import (
    Account,
    ChatChunk,
    ChatMessage,
    ConversationKey,
    Feature,
    ImagePart,
    Notice,
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
    text = sum(estimate_tokens(m.content) + 4 for m in messages)
    return text + sum(image_tokens(image) for m in messages for image in m.images)


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
    # The output limit sent upstream, when the hold (balance + overdraft) cut it below
    # the model's maximum: an answer that reaches it was shortened by the balance.
    capped_at: int | None = None

    def shortened(self) -> bool:
        if self.capped_at is None or not self.finished:
            return False
        made = self.usage.completion_tokens if self.usage else estimate_tokens(self.text)
        return made >= self.capped_at


@dataclass(frozen=True, slots=True)
class _Reserved:
    conversation: ConversationKey
    messages: list[ChatMessage]
    hold: Hold
    model: ModelSpec
    effective: Effective
    question: str  # what the conversation keeps (the /retry's question, file markers)
    replaces: str | None = None  # a regenerated answer's first request: taken out on settling


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
        # A picture without words still shows where it sits among the quotes.
        body = quote.text.strip()[:room] or ("[picture]" if quote.images else "")
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
        progress: HoldProgress | None = None,
    ) -> None:
        self._uow = uow
        self._settings = settings
        self._gate = gate
        self._billing = billing
        self._providers = providers
        self._models = models
        self._stops = stops
        self._config = config
        # Read by this worker's lease heartbeat (core.services.leases): what each open
        # answer has produced, so a sweep after a kill charges for it.
        self._progress = progress or HoldProgress()

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
        return await admit_to_the_end(self._admit(request))

    async def _admit(self, request: ChatRequest) -> ChatReply:
        text = request.text.strip()
        if not request.retry:
            self._check_input(text, has_files=bool(request.attachments))
        # Files are checked, shrunk and read before admission: a refusal costs nothing.
        files = await prepare(request.attachments, self._config) if request.attachments else None
        # What the conversation keeps: the words, with a marker per file (never the bytes).
        stored = stored_marker(request.attachments, text)

        # Pictures in the messages replied to: shrunk here, sent only to a model that sees.
        quoted_pictures = await _quoted_pictures(request.quoted, self._config)

        async def reserve(uow: UnitOfWork, admitted: Admitted) -> _Reserved:
            account = admitted.account
            question, retry_of, replaces = stored, None, None
            interrupted = await self._interrupted(uow, request, admitted) if request.retry else None
            if interrupted is not None:
                retry_of, question = interrupted
            conversation = ConversationKey(request.caller.platform, request.chat_id, account.id)
            where = request.settings_chat_id or request.chat_id
            scope = ConversationKey(request.caller.platform, where, account.id)
            effective = await self._settings.effective(uow, account, scope)
            model = effective.model(account, admitted.model, self._models)
            regenerate = request.retry and interrupted is None
            if regenerate and request.retry_from is not None:
                redone = await self._redone_in(uow, conversation, request.retry_from)
                conversation = redone or conversation
            window = await self._window(uow, conversation, spare=2 if regenerate else 0)
            if regenerate:
                window, question, replaces = self._last_exchange(window, request)
            system = effective.system_prompt(self._config.system_prompt)
            kept = [i for i, q in enumerate(request.quoted) if not _in_window(q, window)]
            quoted = [request.quoted[i] for i in kept]
            asked = files.prompt_text(text) if files else question
            messages = self._prompt(system, window, asked, quoted)
            if files is not None and files.images:
                # Pictures need a model that sees: a persona's model that cannot gives way
                # to the one the person has.
                if not model.vision and admitted.model.vision:
                    model = admitted.model
                self._check_vision(account, model)
                messages[-1] = ChatMessage("user", messages[-1].content, files.images)
            pictures = [part for i in kept for part in quoted_pictures[i]]
            if pictures and model.vision:
                # A quoted picture is context, not the question: a text-only model gets
                # the quote's words without it rather than a refusal.
                last = messages[-1]
                messages[-1] = ChatMessage("user", last.content, (*last.images, *pictures))
            prompt_tokens = estimate_prompt_tokens(messages)
            cost = chat_cost(model, Usage(prompt_tokens, model.max_output_tokens))
            hold = await self._billing.hold_in(
                uow,
                account,
                request,
                cost,
                Feature.CHAT,
                model.name,
                question=question,
                retry_of=retry_of,
                # Refused before the upstream when the balance alone cannot pay the prompt.
                upfront=prompt_cost(model, prompt_tokens),
                least=least_hold(model, prompt_tokens),
            )
            return _Reserved(conversation, messages, hold, model, effective, question, replaces)

        admission = AsyncExitStack()
        try:
            _, reserved = await admission.enter_async_context(
                self._gate.admit(request, Feature.CHAT, reserve)
            )
        except BaseException:
            await admission.aclose()
            raise
        conversation, messages, hold = reserved.conversation, reserved.messages, reserved.hold
        text = reserved.question
        progress = _Progress(model=reserved.model)
        settled: list[Settlement] = []
        self._progress.track(
            hold.request_id, lambda: min(hold.reserved, _produced(progress, messages))
        )

        async def settle() -> Settlement:
            # Once per request, whichever comes first: the end of the stream (so TextDone
            # carries the charge) or the reply being closed early.
            if not settled:
                found = _settlement(progress, messages, conversation, text)
                settled.append(replace(found, replaces=reserved.replaces))
                try:
                    await self._billing.settle(hold, settled[0])
                finally:
                    self._progress.done(hold.request_id)
            return settled[0]

        async def events() -> AsyncGenerator[ReplyEvent, None]:
            progress.started = True
            for note in _trim_notes(files, self._config.document_tokens):
                yield note
            stream = self._from_upstream(hold.request_id, messages, progress, hold.reserved)
            async for event in stream:
                yield event
            done = await settle()
            yield TextDone(
                progress.text, done.charge, done.usage, done.outcome, progress.shortened()
            )

        return ChatReply(hold.request_id, events(), settle, admission, reserved.effective)

    async def ask(self, request: ChatRequest) -> AsyncGenerator[ReplyEvent, None]:
        """``start`` and its events as one generator: refusals are raised at the first
        event. For callers that need no separate admission step."""
        reply = await self.start(request)
        async with reply:
            async for event in reply.events:
                yield event

    def _check_vision(self, account: Account, model: ModelSpec) -> None:
        """Raised inside the reservation's transaction, which then rolls back: nothing held."""
        if model.vision:
            return
        able = self._models.vision_model_for(account.role)
        if able is None:
            raise VisionUnavailable(model=model.name)
        raise VisionUnsupported(model=model.name, vision_model=able.name)

    def _check_input(self, text: str, *, has_files: bool = False) -> None:
        if not text and not has_files:
            raise EmptyInput()
        if len(text) > self._config.max_input_chars:
            raise InputTooLong(length=len(text), limit=self._config.max_input_chars)

    async def _interrupted(
        self, uow: UnitOfWork, request: ChatRequest, admitted: Admitted
    ) -> tuple[str, str] | None:
        """The interrupted (request id, question) a /retry asks again. Only read here:
        ``Billing.hold_in`` takes it in the same transaction as the new hold, so two
        /retry at once answer it once, and a refused one (credits) leaves it on offer.
        A Retry button (``retry_of``) names that very request: gone, nothing to retry."""
        found = await uow.leases.retry_question(
            request.caller.platform,
            request.retry_from or request.chat_id,
            admitted.account.id,
            request.retry_of,
        )
        if found is None and request.retry_of is not None:
            raise NothingToRetry()
        return found

    async def _redone_in(
        self, uow: UnitOfWork, asked_in: ConversationKey, retry_from: str
    ) -> ConversationKey | None:
        """The conversation a /retry with ``retry_from`` regenerates: the one under that chat
        (itself or a thread of it) that holds the account's newest exchange. Slack's /retry
        answers in a new thread, whose own conversation is empty; the new exchange is kept
        where the first one was, so follow-ups in that thread see it."""
        platform, account_id = asked_in.platform, asked_in.account_id
        found = await uow.conversations.latest_chat(
            ConversationKey(platform, retry_from, account_id)
        )
        return None if found is None else ConversationKey(platform, found, account_id)

    def _last_exchange(
        self, window: list[StoredMessage], request: ChatRequest
    ) -> tuple[list[StoredMessage], str, str]:
        """A /retry with nothing interrupted regenerates the last answer: (the context
        before that exchange, its question, its request id). The first answer is not
        sent; it leaves the context when the new one is stored (``Settlement.replaces``)."""
        if len(window) < 2 or request.retry_of is not None:
            raise NothingToRetry()
        asked, said = window[-2], window[-1]
        if (asked.role, said.role) != ("user", "assistant") or (
            asked.request_id != said.request_id
        ):
            raise NothingToRetry()
        limit = self._config.context_messages
        before = window[:-2][-limit:] if limit > 0 else []
        return before, asked.content, asked.request_id

    async def _window(
        self, uow: UnitOfWork, conversation: ConversationKey, *, spare: int = 0
    ) -> list[StoredMessage]:
        """The stored context (``spare`` more messages than the window holds, for a
        /retry that leaves its last exchange out), reset first when it went quiet for
        ``context_idle_minutes`` (in the admission's transaction: a refused question
        leaves it as it was)."""
        limit = self._config.context_messages
        window = await uow.conversations.window(conversation, limit + spare)
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
        self, request_id: str, messages: list[ChatMessage], progress: _Progress, held: int
    ) -> AsyncGenerator[ReplyEvent, None]:
        queue: asyncio.Queue[object] = asyncio.Queue()
        pump = asyncio.create_task(self._pump(messages, queue, progress, held))
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
            await cancel_and_wait(pump, watcher)

    async def _pump(
        self,
        messages: list[ChatMessage],
        queue: asyncio.Queue[object],
        progress: _Progress,
        held: int,
    ) -> None:
        """Stream from the model, falling back to the next model only before any output.

        Each model is asked for no more output than ``held`` pays for at its own prices
        (a fallback the hold cannot pay for at all is skipped)."""
        first = progress.model
        prompt_tokens = estimate_prompt_tokens(messages)
        # A question with pictures falls back only to models that can see them, and only
        # to models the hold can pay for at their own prices.
        pictures = any(m.images for m in messages)
        fallbacks = [
            m for n in first.fallbacks if (m := self._models.get(n)) and (m.vision or not pictures)
        ]
        candidates = [first, *(m for m in fallbacks if output_cap(m, prompt_tokens, held) > 0)]
        produced = False
        for index, model in enumerate(candidates):
            progress.model = model
            limit = output_cap(model, prompt_tokens, held)
            progress.capped_at = limit if limit < model.max_output_tokens else None
            try:
                provider = self._providers[model.provider]
                stream = provider.stream_chat(
                    model.upstream, messages, max(limit, 1), model.limit_parameter
                )
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


async def _quoted_pictures(
    quotes: Sequence[Quote], config: CoreConfig
) -> list[tuple[ImagePart, ...]]:
    """Each quote's pictures, downscaled like a question's. The person did not send them:
    one that is too large or unreadable is left out (logged), never a refusal."""
    found: list[tuple[ImagePart, ...]] = []
    for quote in quotes:
        parts: list[ImagePart] = []
        for image in quote.images:
            if size_refusal(image.name, image.mime, len(image.data), config) is not None:
                logger.info("quoted picture %s left out: too large or not a picture", image.name)
                continue
            try:
                parts.append(await asyncio.to_thread(downscale, image.data, config.image_max_side))
            except BadImage:
                logger.info("quoted picture %s left out: unreadable", image.name)
        found.append(tuple(parts))
    return found


def _trim_notes(files: Prepared | None, budget: int) -> list[Notice]:
    """Tell the person which documents were cut to the token budget before sending."""
    if files is None:
        return []
    return [
        Notice("reply.document_trimmed", {"name": d.name, "tokens": str(budget)})
        for d in files.documents
        if d.trimmed
    ]


def _produced(progress: _Progress, messages: list[ChatMessage]) -> int:
    """What the answer has cost so far, priced like a cut stream; 0 before any text."""
    if not progress.text:
        return 0
    usage = Usage(estimate_prompt_tokens(messages), estimate_tokens(progress.text))
    return chat_cost(progress.model, usage)


def _settlement(
    progress: _Progress,
    messages: list[ChatMessage],
    conversation: ConversationKey,
    question: str,
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
