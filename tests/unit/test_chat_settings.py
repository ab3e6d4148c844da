"""Personas, instructions, quoted context, idle reset and export, over the fake LLM on
in-memory storage: what reaches the upstream, what is stored, what each person sees."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta

import pytest

from bots.settings import DEFAULT_MODELS_FILE, DEFAULT_PERSONAS_FILE
from core.errors import DuplicateEvent, InputTooLong, NotAllowed, UnknownPersona
from core.models_config import load_models_file, parse_models
from core.ports import VoiceMode
from core.services.config import DEFAULT_SYSTEM_PROMPT
from core.services.personas import (
    PersonasFileError,
    load_personas_file,
    merged,
    parse_personas,
)
from core.services.requests import Attachment, ChatRequest, Quote
from core.types import ConversationKey, Role, StoredMessage, TextDone
from tests.fakes.llm_server import FakeLLM
from tests.fakes.memory import MemoryStore, memory_uow_factory
from tests.harness import MODELS_TOML, caller, collect, core_on, models_for_tests, with_config
from tests.sample_files import picture

PERSONAS = """
[personas.pirate]
description = "Talks like a pirate"
system_prompt = "Speak like a pirate."
[personas.pro]
description = "Admins only, on the big model"
system_prompt = "Be thorough."
model = "chat-pro"
roles = ["admin"]
[personas.cheap]
description = "On the small model"
system_prompt = "Be cheap."
model = "chat-b"
"""


def catalog():
    return parse_personas(tomllib.loads(PERSONAS), models_for_tests())


@pytest.fixture
async def llm():
    async with FakeLLM() as server:
        yield server


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


def ask(text: str, chat_id: str = "dm", **kw) -> ChatRequest:
    return ChatRequest(caller=caller("1"), chat_id=chat_id, text=text, **kw)


def sent(llm: FakeLLM, index: int = -1) -> list[dict]:
    return llm.requests_to("/chat/completions")[index].body["messages"]


async def test_persona_and_instructions_are_appended_to_the_system_message(llm, store):
    async with core_on(memory_uow_factory(store), llm.base_url, personas=catalog()) as core:
        await core.chat_settings.choose_persona(caller("1"), "dm", "Pirate")
        await core.chat_settings.set_instructions(caller("1"), "dm", "Call me Captain.")
        await collect(core.chat.ask(ask("hello")))
        await core.chat_settings.set_instructions(caller("1"), "dm", None)
        await core.chat_settings.choose_persona(caller("1"), "dm", "default")
        await collect(core.chat.ask(ask("again")))
    system = sent(llm, 0)[0]
    assert system["role"] == "system"
    assert system["content"] == (
        f"{DEFAULT_SYSTEM_PROMPT}\n\nSpeak like a pirate.\n\n"
        "The user's own instructions for you:\nCall me Captain."
    )
    assert sent(llm, 1)[0]["content"] == DEFAULT_SYSTEM_PROMPT


async def test_a_group_keeps_its_own_persona(llm, store):
    async with core_on(memory_uow_factory(store), llm.base_url, personas=catalog()) as core:
        await core.chat_settings.choose_persona(caller("1"), "group", "pirate")
        await collect(core.chat.ask(ask("in the dm")))
        await collect(core.chat.ask(ask("in the group", chat_id="group")))
        dm = await core.chat_settings.view(caller("1"), "dm")
        group = await core.chat_settings.view(caller("1"), "group")
    assert "pirate" not in sent(llm, 0)[0]["content"].lower()
    assert sent(llm, 1)[0]["content"].endswith("Speak like a pirate.")
    assert dm.effective.persona is None
    assert group.effective.persona is not None and group.effective.persona.name == "pirate"


async def test_roles_restrict_personas_and_unknown_names_are_refused(llm, store):
    async with core_on(memory_uow_factory(store), llm.base_url, personas=catalog()) as core:
        view = await core.chat_settings.view(caller("1"), "dm")
        assert [p.name for p in view.personas] == ["pirate", "cheap"]
        with pytest.raises(NotAllowed):
            await core.chat_settings.choose_persona(caller("1"), "dm", "pro")
        with pytest.raises(UnknownPersona):
            await core.chat_settings.choose_persona(caller("1"), "dm", "nobody")
        with pytest.raises(InputTooLong):
            await core.chat_settings.set_instructions(caller("1"), "dm", "x" * 2001)
        # An admin may choose it; demoted later, the persona is no longer applied.
        account = await core.accounts.resolve(caller("1"))
        async with memory_uow_factory(store)() as uow:
            await uow.accounts.set_role(account.id, Role.ADMIN)
            await uow.commit()
        await core.chat_settings.choose_persona(caller("1"), "dm", "pro")
        await collect(core.chat.ask(ask("as admin")))
        async with memory_uow_factory(store)() as uow:
            await uow.accounts.set_role(account.id, Role.USER)
            await uow.commit()
        await collect(core.chat.ask(ask("as user")))
    assert sent(llm, 0)[0]["content"].endswith("Be thorough.")
    assert llm.requests_to("/chat/completions")[0].body["model"] == "chat-pro"
    assert sent(llm, 1)[0]["content"] == DEFAULT_SYSTEM_PROMPT
    assert llm.requests_to("/chat/completions")[1].body["model"] == "chat-a"
    assert not llm.requests_to("/chat/completions")[2:]


async def test_the_persona_model_is_used_unless_the_person_chose_one(llm, store):
    async with core_on(memory_uow_factory(store), llm.base_url, personas=catalog()) as core:
        await core.chat_settings.choose_persona(caller("1"), "dm", "cheap")
        first = await collect(core.chat.ask(ask("one")))
        await core.accounts.choose_chat_model(caller("1"), "chat-a")
        await collect(core.chat.ask(ask("two")))
    models = [r.body["model"] for r in llm.requests_to("/chat/completions")]
    assert models == ["chat-b", "chat-a"]
    done = first[-1]
    assert isinstance(done, TextDone) and done.credits > 0


async def test_a_picture_skips_a_persona_model_that_cannot_see_it(llm, store):
    # chat-a (the default) sees pictures, the "cheap" persona's chat-b does not.
    models = parse_models(
        tomllib.loads(
            MODELS_TOML.replace('[models."chat-b"]', 'vision = true\n[models."chat-b"]', 1)
        )
    )
    personas = parse_personas(tomllib.loads(PERSONAS), models)
    async with core_on(
        memory_uow_factory(store), llm.base_url, models=models, personas=personas
    ) as core:
        await core.chat_settings.choose_persona(caller("1"), "dm", "cheap")
        await collect(
            core.chat.ask(ask("What is it?", attachments=(Attachment("p.png", picture(40, 30)),)))
        )
        await collect(core.chat.ask(ask("And now in words?")))
    with_picture, words = llm.requests_to("/chat/completions")
    assert [with_picture.body["model"], words.body["model"]] == ["chat-a", "chat-b"]
    # The persona's system message goes with the picture all the same.
    assert with_picture.body["messages"][0]["content"].endswith("Be cheap.")
    assert with_picture.body["messages"][-1]["content"][1]["type"] == "image_url"


async def test_quoted_messages_go_upstream_but_only_the_question_is_stored(llm, store):
    quotes = (Quote("Nearest line", author="Bob"), Quote("Older one\nsecond line", author=None))
    async with core_on(memory_uow_factory(store), llm.base_url) as core:
        await collect(core.chat.ask(ask("What does it mean?", quoted=quotes)))
        await collect(core.chat.ask(ask("And then?")))
    question = sent(llm, 0)[-1]
    assert question == {
        "role": "user",
        "content": "[Quoted message:]\n> Older one\n> second line\n\n"
        "[Bob wrote:]\n> Nearest line\n\nWhat does it mean?",
    }
    assert sent(llm, 1)[1] == {"role": "user", "content": "What does it mean?"}


async def test_quotes_are_cut_to_the_input_limit_nearest_kept(llm, store):
    config = with_config(max_input_chars=20)
    quotes = (Quote("n" * 15), Quote("o" * 15))
    async with core_on(memory_uow_factory(store), llm.base_url, config=config) as core:
        await collect(core.chat.ask(ask("why?", quoted=quotes)))
    content = sent(llm)[-1]["content"]
    assert "n" * 15 in content and "o" * 5 in content and "o" * 6 not in content


async def test_an_idle_conversation_is_reset_before_the_next_question(llm, store):
    config = with_config(context_idle_minutes=30)
    async with core_on(memory_uow_factory(store), llm.base_url, config=config) as core:
        account = await core.accounts.resolve(caller("1"))
        key = ConversationKey("telegram", "dm", account.id)
        old = datetime.now(UTC) - timedelta(minutes=31)
        async with memory_uow_factory(store)() as uow:
            await uow.conversations.append(
                key,
                StoredMessage("user", "old question", "r0", old),
                StoredMessage("assistant", "old answer", "r0", old),
            )
            await uow.commit()
        await collect(core.chat.ask(ask("fresh")))
        await collect(core.chat.ask(ask("follow-up")))
    assert [m["content"] for m in sent(llm, 0)[1:]] == ["fresh"]
    assert "old answer" not in str(sent(llm, 1))
    assert [m["role"] for m in sent(llm, 1)] == ["system", "user", "assistant", "user"]


async def test_recent_context_is_kept_with_an_idle_limit(llm, store):
    config = with_config(context_idle_minutes=30)
    async with core_on(memory_uow_factory(store), llm.base_url, config=config) as core:
        await collect(core.chat.ask(ask("first")))
        await collect(core.chat.ask(ask("second")))
    assert [m["role"] for m in sent(llm, 1)] == ["system", "user", "assistant", "user"]


async def test_export_has_the_whole_conversation_of_that_chat_only(llm, store):
    llm.script(reply="An answer")
    async with core_on(memory_uow_factory(store), llm.base_url) as core:
        await collect(core.chat.ask(ask("before reset")))
        await core.conversations.reset(caller("1"), "dm")
        await collect(core.chat.ask(ask("after reset")))
        await collect(core.chat.ask(ask("elsewhere", chat_id="group")))
        messages = await core.conversations.export(caller("1"), "dm", "ev1")
        with pytest.raises(DuplicateEvent):
            await core.conversations.export(caller("1"), "dm", "ev1")
    assert [(m.role, m.content) for m in messages] == [
        ("user", "before reset"),
        ("assistant", "An answer"),
        ("user", "after reset"),
        ("assistant", "An answer"),
    ]


async def test_voice_and_cost_follow_the_person_into_every_chat(llm, store):
    async with core_on(memory_uow_factory(store), llm.base_url) as core:
        await core.chat_settings.set_voice(caller("1"), VoiceMode.AUTO)
        await core.chat_settings.set_cost_line(caller("1"), True)
        reply = await core.chat.start(ask("hi", chat_id="some group"))
        async with reply:
            await collect(reply.events)
    assert reply.settings.show_cost
    assert reply.settings.speaks(voice_input=True) and not reply.settings.speaks(False)


def test_the_shipped_personas_file_parses(tmp_path):
    shipped = load_personas_file(DEFAULT_PERSONAS_FILE, load_models_file(DEFAULT_MODELS_FILE))
    assert {"concise", "tutor", "coder", "translator"} <= set(shipped.personas)
    bad = tmp_path / "p.toml"
    bad.write_text('[personas.x]\nsystem_prompt = "y"\nmodel = "img"\n')
    with pytest.raises(PersonasFileError, match=r"personas.x.model"):
        load_personas_file(bad, models_for_tests())
    bad.write_text('[personas.x]\nsystem_prompt = "y"\nroles = ["captain"]\n')
    with pytest.raises(PersonasFileError, match=r"personas.x.roles"):
        load_personas_file(bad, models_for_tests())


async def test_voice_replies_are_refused_to_a_role_without_speech(llm, store):
    async with core_on(memory_uow_factory(store), llm.base_url) as core:
        account = await core.accounts.resolve(caller("1"))
        async with memory_uow_factory(store)() as uow:
            await uow.accounts.set_role(account.id, Role.GUEST)  # "voice" is for user, admin
            await uow.commit()
        with pytest.raises(NotAllowed):
            await core.chat_settings.set_voice(caller("1"), VoiceMode.AUTO)
        await core.chat_settings.set_voice(caller("1"), VoiceMode.OFF)
        view = await core.chat_settings.view(caller("1"), "dm")
    assert view.effective.voice is VoiceMode.OFF


def test_personas_in_the_models_file_are_merged_under_the_personas_file():
    in_models = parse_personas(
        tomllib.loads(
            '[personas.pirate]\nsystem_prompt = "Arr."\n[personas.chef]\nsystem_prompt = "Cook."\n'
        ),
        models_for_tests(),
    )
    both = merged(in_models, catalog())
    assert both.personas["pirate"].system_prompt == "Speak like a pirate."
    assert both.personas["chef"].system_prompt == "Cook."


async def test_a_quote_of_an_answer_in_the_context_is_sent_once(llm, store):
    llm.script(reply="**Paris** is the capital.")
    async with core_on(memory_uow_factory(store), llm.base_url) as core:
        await collect(core.chat.ask(ask("hi")))
        shown = Quote("Paris is the capital.\n\nCost: 0.01 credits.", author="assistant")
        other = Quote("hi everyone, Paris is lovely", author="Bob")
        await collect(core.chat.ask(ask("sure?", quoted=(shown, other))))
    assert sent(llm)[-1]["content"] == "[Bob wrote:]\n> hi everyone, Paris is lovely\n\nsure?"
