"""Images, speech and transcription: one upstream call each, priced per unit.

The reservation is the exact price (image, speech) or the worst case of the declared
duration (transcription); a failure refunds it in full."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

from core.errors import AudioTooLarge, AudioTooLong, EmptyInput, InputTooLong
from core.models_config import ModelSpec
from core.money import price_of
from core.observability import bind_request_id
from core.ports import ModelProvider, UnitOfWork
from core.services.billing import Billing, Hold, Settlement
from core.services.config import CoreConfig
from core.services.gate import Admitted, Gate
from core.services.requests import ImageRequest, PaidRequest, SpeechRequest, TranscriptionRequest
from core.types import AudioReady, Feature, ImageReady, Outcome, Transcript, Usage

T = TypeVar("T")
NO_USAGE = Usage(0, 0)


def minutes_started(seconds: float) -> int:
    return max(1, math.ceil(seconds / 60))


class MediaService:
    def __init__(
        self,
        gate: Gate,
        billing: Billing,
        providers: Mapping[str, ModelProvider],
        config: CoreConfig,
    ) -> None:
        self._gate = gate
        self._billing = billing
        self._providers = providers
        self._config = config

    async def image(self, request: ImageRequest) -> ImageReady:
        bind_request_id(request.request_id)
        prompt = _required(request.prompt, self._config.max_input_chars)

        async def call(model: ModelSpec) -> tuple[bytes, int]:
            data = await self._providers[model.provider].generate_image(
                model.upstream, prompt, model.image_size
            )
            return data, model.per_image

        data, charge = await self._paid(request, Feature.IMAGE, lambda m: m.per_image, call)
        return ImageReady(data=data, mime="image/png", prompt=prompt, credits=charge)

    async def speech(self, request: SpeechRequest) -> AudioReady:
        bind_request_id(request.request_id)
        text = _required(request.text, self._config.max_tts_chars)

        def price(model: ModelSpec) -> int:
            return price_of(len(text), model.per_1k_chars)

        async def call(model: ModelSpec) -> tuple[bytes, int]:
            return await self._providers[model.provider].speak(
                model.upstream, text, model.voice
            ), price(model)

        data, charge = await self._paid(request, Feature.TTS, price, call)
        return AudioReady(data=data, mime="audio/ogg", credits=charge)

    async def transcribe(self, request: TranscriptionRequest) -> tuple[Transcript, int]:
        """The transcript and what it cost."""
        bind_request_id(request.request_id)
        size, limit = len(request.audio), self._config.max_audio_bytes
        if size == 0:
            raise EmptyInput()
        if size > limit:
            raise AudioTooLarge(size_mb=f"{size / 2**20:.1f}", limit_mb=limit // 2**20)
        declared = request.declared_seconds
        if declared is not None and declared > self._config.max_audio_seconds:
            raise AudioTooLong(seconds=int(declared), limit=self._config.max_audio_seconds)
        worst_seconds = declared if declared is not None else self._config.max_audio_seconds

        async def call(model: ModelSpec) -> tuple[Transcript, int]:
            provider = self._providers[model.provider]
            transcript = await provider.transcribe(model.upstream, request.audio, request.filename)
            seconds = transcript.duration_s if transcript.duration_s is not None else worst_seconds
            return transcript, minutes_started(seconds) * model.per_minute

        # The length is known only after decoding: the hold is the worst case (or what
        # the balance and the overdraft allow), but only the declared length (or one
        # minute) must fit; a bounded hold caps the charge (Billing.settle).
        least_seconds = declared if declared is not None else 1
        return await self._paid(
            request,
            Feature.STT,
            lambda m: minutes_started(worst_seconds) * m.per_minute,
            call,
            least=lambda m: minutes_started(least_seconds) * m.per_minute,
        )

    async def _paid(
        self,
        request: PaidRequest,
        feature: Feature,
        worst_case: Callable[[ModelSpec], int],
        call: Callable[[ModelSpec], Awaitable[tuple[T, int]]],
        least: Callable[[ModelSpec], int] | None = None,
    ) -> tuple[T, int]:
        """``least``: the smallest hold worth taking, default the whole worst case (a
        price known in advance cannot be cut short)."""

        async def reserve(uow: UnitOfWork, admitted: Admitted) -> Hold:
            model = admitted.model
            cost = worst_case(model)
            # Refused before the upstream unless ``least`` fits within the balance and the
            # overdraft.
            floor = cost if least is None else least(model)
            return await self._billing.hold_in(
                uow, admitted.account, request, cost, feature, model.name, least=floor
            )

        async with self._gate.admit(request, feature, reserve) as (admitted, hold):
            settlement = Settlement(charge=0, outcome=Outcome.FAILED)
            try:
                result, charge = await call(admitted.model)
                if hold.bounded:  # what Billing.settle will take, and the person is shown
                    charge = min(charge, hold.reserved)
                settlement = Settlement(charge=charge, outcome=Outcome.OK)
            finally:
                await self._billing.settle(hold, settlement)
            return result, charge


def _required(text: str, limit: int) -> str:
    text = text.strip()
    if not text:
        raise EmptyInput()
    if len(text) > limit:
        raise InputTooLong(length=len(text), limit=limit)
    return text
