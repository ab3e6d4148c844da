"""``/retry`` with nothing interrupted regenerates the last answer (issue 14 item 6): the
same question with the context before it, without the first answer, paid again; the new
exchange takes the old one's place in the window. And a quoted picture (item 5) goes to
a model that sees as an image part, and is left out for one that does not."""

from __future__ import annotations

import tomllib

import pytest

from core.errors import NothingToRetry
from core.models_config import parse_models
from core.services.requests import Attachment, ChatRequest, Quote
from core.types import Outcome, TextDone
from tests.fakes.llm_server import FakeLLM
from tests.fakes.memory import MemoryStore, memory_uow_factory
from tests.harness import MODELS_TOML, caller, collect, core_on
from tests.sample_files import picture


@pytest.fixture
async def llm():
    async with FakeLLM() as server:
        yield server


def _sent(llm: FakeLLM, n: int = -1) -> list[tuple[str, object]]:
    messages = llm.requests_to("/chat/completions")[n].body["messages"]
    return [(m["role"], m["content"]) for m in messages[1:]]  # without the system message


async def _window(store: MemoryStore, chat: str = "c") -> list[tuple[str, str]]:
    return [(r.message.role, r.message.content) for r in store.messages if r.in_window]


async def test_retry_regenerates_the_last_answer_without_it_and_charges_again(llm):
    store = MemoryStore()
    async with core_on(memory_uow_factory(store), llm.base_url) as core:
        with pytest.raises(NothingToRetry):  # nothing stored yet
            await core.chat.start(ChatRequest(caller("1"), "c", retry=True))
        for question in ("first?", "second?"):
            await collect(core.chat.ask(ChatRequest(caller("1"), "c", text=question)))
        llm.script(reply="second, again")
        events = await collect(core.chat.ask(ChatRequest(caller("1"), "c", retry=True)))
        done = events[-1]
        assert isinstance(done, TextDone) and done.text == "second, again" and done.credits > 0
        assert _sent(llm) == [
            ("user", "first?"),
            ("assistant", "Echo: first?"),
            ("user", "second?"),
        ]
        assert await _window(store) == [
            ("user", "first?"),
            ("assistant", "Echo: first?"),
            ("user", "second?"),
            ("assistant", "second, again"),
        ]
        # Once more: the regenerated answer is the one left out now.
        llm.script(reply="third take")
        await collect(core.chat.ask(ChatRequest(caller("1"), "c", retry=True)))
        assert _sent(llm)[-1] == ("user", "second?") and len(_sent(llm)) == 3
        assert (await _window(store))[-1] == ("assistant", "third take")
        account = await core.accounts.resolve(caller("1"))
        async with memory_uow_factory(store)() as uow:
            usage = await uow.usage.recent(account.id, 10)
        assert [u.outcome for u in usage] == [Outcome.OK] * 4 and all(u.credits for u in usage)
        # /history keeps every answer given; only the window forgets the replaced ones.
        history = await core.conversations.history(caller("1"))
        assert [h.answer for h in history][:3] == ["third take", "second, again", "Echo: second?"]


async def test_nothing_to_regenerate_elsewhere_or_after_a_reset(llm):
    store = MemoryStore()
    async with core_on(memory_uow_factory(store), llm.base_url) as core:
        await collect(core.chat.ask(ChatRequest(caller("1"), "c", text="hello")))
        for who, where in (("2", "c"), ("1", "elsewhere")):
            with pytest.raises(NothingToRetry):
                await core.chat.start(ChatRequest(caller(who), where, retry=True))
        # A Retry button names an interrupted request: gone, it regenerates nothing.
        with pytest.raises(NothingToRetry):
            await core.chat.start(ChatRequest(caller("1"), "c", retry=True, retry_of="gone"))
        await core.conversations.reset(caller("1"), "c")
        with pytest.raises(NothingToRetry):
            await core.chat.start(ChatRequest(caller("1"), "c", retry=True))
    assert len(llm.requests_to("/chat/completions")) == 1


async def test_retry_from_a_channel_regenerates_its_newest_thread(llm):
    """Slack: /retry asked in a new thread (``c:new``) regenerates the newest exchange under
    the channel (``retry_from="c"``), with that thread's context, and keeps it there."""
    store = MemoryStore()
    async with core_on(memory_uow_factory(store), llm.base_url) as core:
        for where, question in (("c:1", "one?"), ("c:2", "two?"), ("c:2", "two, more?")):
            await collect(core.chat.ask(ChatRequest(caller("1"), where, text=question)))
        await collect(core.chat.ask(ChatRequest(caller("1"), "cx:3", text="not here")))
        llm.script(reply="again")
        retry = ChatRequest(caller("1"), "c:new", retry=True, retry_from="c")
        await collect(core.chat.ask(retry))
        assert _sent(llm) == [("user", "two?"), ("assistant", "Echo: two?"), ("user", "two, more?")]
        threads = [
            (r.conversation.chat_id, r.message.content) for r in store.messages if r.in_window
        ]
        assert threads[-2:] == [("c:2", "two, more?"), ("c:2", "again")]
        assert "Echo: two, more?" not in [content for _, content in threads]
        with pytest.raises(NothingToRetry):  # someone else has nothing under the channel
            await core.chat.start(ChatRequest(caller("2"), "c:new", retry=True, retry_from="c"))


async def test_a_failed_regeneration_keeps_the_first_answer(llm):
    store = MemoryStore()
    async with core_on(memory_uow_factory(store), llm.base_url) as core:
        await collect(core.chat.ask(ChatRequest(caller("1"), "c", text="hello")))
        llm.script(fail_before_output=500)
        with pytest.raises(Exception):  # noqa: B017 - the upstream's error, whatever its class
            await collect(core.chat.ask(ChatRequest(caller("1"), "c", retry=True)))
        assert await _window(store) == [("user", "hello"), ("assistant", "Echo: hello")]


def _catalog(vision: bool):
    toml = MODELS_TOML.replace(
        '[models."chat-a"]\n', f'[models."chat-a"]\nvision = {str(vision).lower()}\n'
    )
    return parse_models(tomllib.loads(toml))


@pytest.mark.parametrize("vision", [True, False])
async def test_a_quoted_picture_goes_to_a_model_that_sees(llm, vision):
    store = MemoryStore()
    photo = Attachment("photo-7.jpg", picture(900, 600, "JPEG"), "image/jpeg")
    broken = Attachment("photo-8.jpg", b"not a picture", "image/jpeg")
    quote = Quote(text="", author="Alice", images=(photo, broken))
    async with core_on(memory_uow_factory(store), llm.base_url, models=_catalog(vision)) as core:
        request = ChatRequest(caller("1"), "c", text="what is in it?", quoted=(quote,))
        events = await collect(core.chat.ask(request))
    assert isinstance(events[-1], TextDone)
    content = llm.requests_to("/chat/completions")[-1].body["messages"][-1]["content"]
    words = "[Alice wrote:]\n> [picture]\n\nwhat is in it?"
    if vision:  # the readable picture only, downscaled as a question's own
        assert [p["type"] for p in content] == ["text", "image_url"]
        assert content[0]["text"] == words
        assert content[1]["image_url"]["url"].startswith("data:image/")
    else:  # a text-only model gets the quote's words, and no refusal
        assert content == words
    assert (await _window(store))[0] == ("user", "what is in it?")  # only the question kept
