"""A person's chat settings: persona and own instructions per chat (a group can differ
from a DM), voice replies and the per-answer cost line for the person everywhere.

``effective`` runs inside the chat admission's transaction (no extra round trip) and
says what the answer is built with: the system message, the persona's model, whether a
voice note gets a spoken answer and whether the cost line is shown."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from core.errors import Banned, InputTooLong, NotAllowed, UnknownPersona
from core.models_config import ModelCatalog, ModelSpec
from core.ports import ChatSettings, UnitOfWork, UnitOfWorkFactory, VoiceMode
from core.services.accounts import AccountService
from core.services.events import record_event
from core.services.personas import Persona, PersonaCatalog
from core.services.requests import Caller
from core.types import Account, ConversationKey, Feature

MAX_INSTRUCTIONS_CHARS = 2_000
# Words that go back to no persona (the bot's own system prompt only).
NO_PERSONA = frozenset({"default", "none", "off"})


def person_wide(account_id: int) -> ConversationKey:
    """Where the settings that follow the person into every chat are kept."""
    return ConversationKey("", "", account_id)


@dataclass(frozen=True, slots=True)
class Effective:
    """What one chat request is answered with."""

    persona: Persona | None
    instructions: str | None
    voice: VoiceMode
    show_cost: bool

    def system_prompt(self, base: str) -> str:
        parts = [base]
        if self.persona is not None:
            parts.append(self.persona.system_prompt)
        if self.instructions:
            parts.append("The user's own instructions for you:\n" + self.instructions)
        return "\n\n".join(parts)

    def speaks(self, voice_input: bool) -> bool:
        """Whether the answer is also sent as a voice message."""
        return self.voice is VoiceMode.ON or (self.voice is VoiceMode.AUTO and voice_input)

    def model(self, account: Account, chosen: ModelSpec, models: ModelCatalog) -> ModelSpec:
        """The persona's model, unless the person picked one (``/model``) or may not use it."""
        if self.persona is None or self.persona.model is None or account.chat_model:
            return chosen
        own = models.get(self.persona.model)
        return own if own is not None and own.allows(account.role) else chosen


DEFAULT_EFFECTIVE = Effective(None, None, VoiceMode.OFF, False)


@dataclass(frozen=True, slots=True)
class SettingsView:
    """The ``/settings`` summary."""

    account: Account
    effective: Effective
    personas: list[Persona]


class ChatSettingsService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        accounts: AccountService,
        personas: PersonaCatalog,
        models: ModelCatalog,
    ) -> None:
        self._uow = uow
        self._accounts = accounts
        self._personas = personas
        self._models = models

    async def effective(self, uow: UnitOfWork, account: Account, key: ConversationKey) -> Effective:
        here, mine = await uow.chat_settings.get_many([key, person_wide(account.id)])
        persona = self._personas.get(here.persona) if here.persona else None
        if persona is not None and not persona.allows(account.role):
            persona = None  # an admin narrowed its roles since it was chosen
        return Effective(persona, here.instructions, mine.voice, mine.show_cost)

    async def view(self, caller: Caller, chat_id: str) -> SettingsView:
        account = await self._usable(caller)
        async with self._uow() as uow:
            effective = await self.effective(
                uow, account, ConversationKey(caller.platform, chat_id, account.id)
            )
        return SettingsView(account, effective, self._personas.usable(account.role))

    async def choose_persona(
        self, caller: Caller, chat_id: str, name: str, event_id: str | None = None
    ) -> Persona | None:
        """Choose a persona for this chat; one of ``NO_PERSONA`` goes back to none."""
        account = await self._usable(caller)
        wanted = name.strip().casefold()
        persona = None
        if wanted not in NO_PERSONA:
            persona = self._personas.get(wanted)
            if persona is None:
                raise UnknownPersona(persona=name.strip())
            if not persona.allows(account.role):
                raise NotAllowed()
        key = ConversationKey(caller.platform, chat_id, account.id)
        chosen = persona.name if persona else None
        await self._change(caller, key, event_id, lambda s: replace(s, persona=chosen))
        return persona

    async def set_instructions(
        self, caller: Caller, chat_id: str, text: str | None, event_id: str | None = None
    ) -> None:
        """``None`` (or blank) clears them."""
        cleaned = (text or "").strip() or None
        if cleaned is not None and len(cleaned) > MAX_INSTRUCTIONS_CHARS:
            raise InputTooLong(length=len(cleaned), limit=MAX_INSTRUCTIONS_CHARS)
        account = await self._usable(caller)
        key = ConversationKey(caller.platform, chat_id, account.id)
        await self._change(caller, key, event_id, lambda s: replace(s, instructions=cleaned))

    async def set_voice(self, caller: Caller, mode: VoiceMode, event_id: str | None = None) -> None:
        """Refused (``NotAllowed``) for a role no speech model serves: every answer would
        otherwise end in that refusal."""
        account = await self._usable(caller)
        if mode is not VoiceMode.OFF and not self._models.usable(account.role, Feature.TTS):
            raise NotAllowed()
        await self._change(
            caller, person_wide(account.id), event_id, lambda s: replace(s, voice=mode)
        )

    async def set_cost_line(self, caller: Caller, on: bool, event_id: str | None = None) -> None:
        account = await self._usable(caller)
        key = person_wide(account.id)
        await self._change(caller, key, event_id, lambda s: replace(s, show_cost=on))

    async def _change(
        self,
        caller: Caller,
        key: ConversationKey,
        event_id: str | None,
        change: Callable[[ChatSettings], ChatSettings],
    ) -> None:
        async with self._uow() as uow:
            await record_event(uow, caller.platform, event_id)
            current = await uow.chat_settings.get(key)
            await uow.chat_settings.put(key, change(current))
            await uow.commit()

    async def _usable(self, caller: Caller) -> Account:
        account = await self._accounts.resolve(caller)
        if account.banned:
            raise Banned()
        return account
