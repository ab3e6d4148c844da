"""/v1 multipart routes: image edits and variations (priced per image, like generation)
and audio translations (per started minute, like transcription), passed through part by
part with only ``model`` rewritten; the upstream's answer goes back as it came.

A translation is charged for the ``duration`` the upstream reports (``verbose_json``);
for the other formats, which carry none, for the longest audio accepted
(``MAX_AUDIO_SECONDS``), the same worst case that is reserved."""

from __future__ import annotations

import json

from core.errors import AudioTooLarge, EmptyInput
from core.models_config import ModelSpec
from core.observability import bind_request_id
from core.ports import FormPart, RawAnswer
from core.services.config import CoreConfig
from core.services.gateway_paid import FormRequest, PaidRelay
from core.services.media import minutes_started
from core.types import Feature, Outcome

MAX_IMAGES = 10  # OpenAI's limit on ``n``


def with_model(parts: tuple[FormPart, ...], model: ModelSpec) -> list[FormPart]:
    kept = [part for part in parts if part.name != "model"]
    return [FormPart("model", model.upstream.encode("utf-8")), *kept]


def _answer_json(answer: RawAnswer) -> dict[str, object]:
    if answer.content_type != "application/json":
        return {}
    try:
        payload = json.loads(answer.body)
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}


class GatewayForms:
    def __init__(self, paid: PaidRelay, config: CoreConfig) -> None:
        self._paid = paid
        self._config = config

    async def images(self, request: FormRequest, endpoint: str) -> RawAnswer:
        """``endpoint``: images/edits or images/variations."""
        bind_request_id(request.request_id)
        if not any(part.filename is not None and part.value for part in request.parts):
            raise EmptyInput()
        asked = request.form_value("n")
        n = int(asked) if asked and asked.isdigit() else 1
        n = min(max(n, 1), MAX_IMAGES)
        async with self._paid.door(
            request, Feature.IMAGE, endpoint, lambda m: m.per_image * n
        ) as door:
            charge, outcome = 0, Outcome.FAILED
            try:
                answer = await door.upstream.post_form(
                    f"/{endpoint}", with_model(request.parts, door.model)
                )
                images = _answer_json(answer).get("data")
                made = len(images) if isinstance(images, list) else n
                charge, outcome = door.model.per_image * made, Outcome.OK
                return answer
            finally:
                await self._paid.settle(door, charge, outcome)

    async def translation(self, request: FormRequest) -> RawAnswer:
        bind_request_id(request.request_id)
        audio = [p for p in request.parts if p.name == "file" and p.filename is not None]
        size, limit = sum(len(p.value) for p in audio), self._config.max_audio_bytes
        if size == 0:
            raise EmptyInput()
        if size > limit:
            raise AudioTooLarge(size_mb=f"{size / 2**20:.1f}", limit_mb=limit // 2**20)
        worst_minutes = minutes_started(self._config.max_audio_seconds)
        async with self._paid.door(
            request, Feature.STT, "audio/translations", lambda m: worst_minutes * m.per_minute
        ) as door:
            charge, outcome = 0, Outcome.FAILED
            try:
                answer = await door.upstream.post_form(
                    "/audio/translations", with_model(request.parts, door.model)
                )
                duration = _answer_json(answer).get("duration")
                minutes = (
                    minutes_started(float(duration))
                    if isinstance(duration, int | float) and not isinstance(duration, bool)
                    else worst_minutes
                )
                charge, outcome = minutes * door.model.per_minute, Outcome.OK
                return answer
            finally:
                await self._paid.settle(door, charge, outcome)
