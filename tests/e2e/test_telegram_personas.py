"""Personas, instructions, /cost, /settings, /export, quoted context and spoken answers on
Telegram end to end: what the fake LLM receives and what the person sees."""

from __future__ import annotations

from tests.e2e import telegram_harness
from tests.e2e.telegram_harness import (
    BOT_ID,
    GROUP,
    command,
    running_bot,
    say,
    settings_for,
    texts,
    until,
)
from tests.e2e.test_telegram_media import voice_message
from tests.fakes.llm_server import FakeLLM
from tests.fakes.telegram_server import FakeTelegramServer

llm = telegram_harness.llm  # fixtures
server = telegram_harness.server

USER = 801  # the voice notes of test_telegram_media come from this user
ALICE, BOB = 611, 612
TUTOR = "You are a patient tutor."


def system_of(llm: FakeLLM, index: int = -1) -> str:
    content: str = llm.requests_to("/chat/completions")[index].body["messages"][0]["content"]
    return content


async def test_persona_instructions_cost_settings_and_export(
    sqlite_url: str, llm: FakeLLM, server: FakeTelegramServer
) -> None:
    llm.script(reply="Sure.")
    async with running_bot(settings_for(sqlite_url, llm, server), server, llm):

        async def run(text: str, what: str) -> str:
            count = len(texts(server, USER)) + 1
            if text.startswith("/"):
                say(server, USER, text, **command(text))
            else:
                say(server, USER, text)
            await until(lambda: len(texts(server, USER)) >= count, what=what)
            return texts(server, USER)[-1]

        listing = await run("/persona", "the persona list")
        assert "tutor — Explains step by step" in listing and "(current: none)" in listing
        assert await run("/persona tutor", "/persona tutor") == "Persona for this chat: tutor."
        saved = await run("/instructions Call me Captain.", "/instructions")
        assert saved.startswith("Saved")
        await run("teach me fractions", "the answer")
        system = system_of(llm)
        assert TUTOR in system and system.endswith(
            "The user's own instructions for you:\nCall me Captain."
        )
        assert await run("/persona pirate", "an unknown persona") == (
            "Unknown persona: pirate. Use /persona to see the list."
        )

        assert (await run("/cost on", "/cost on")).endswith(": on.")
        answer = await run("and decimals?", "an answer with its cost")
        assert answer.startswith("Sure.\n\nCost: ") and answer.endswith(" credits.")
        summary = await run("/settings", "/settings")
        assert "Persona: tutor" in summary and "Cost line: on" in summary
        assert "Instructions: Call me Captain." in summary

        await run("/instructions clear", "/instructions clear")
        await run("/persona default", "/persona default")
        await run("/cost off", "/cost off")
        assert await run("last one", "a plain answer") == "Sure."
        assert TUTOR not in system_of(llm) and "Captain" not in system_of(llm)

        await run("/export", "/export")

        def sent_documents() -> list:  # a flood 429 on the way is waited out and retried
            return [c for c in server.calls_for("sendDocument", USER) if c.ok]

        (document,) = await until(sent_documents, what="the exported file")
        markdown = next(iter(document.files.values())).decode()
        assert markdown.startswith("# Conversation with Switchboard")
        assert "## You" in markdown and "teach me fractions" in markdown
        assert markdown.count("## Assistant") == 3


async def test_group_quotes_and_per_chat_persona(
    sqlite_url: str, llm: FakeLLM, server: FakeTelegramServer
) -> None:
    async with running_bot(settings_for(sqlite_url, llm, server), server, llm):
        said = say(server, GROUP, "The meeting moved to Friday 3pm.", user_id=ALICE)
        say(server, GROUP, "/persona coder", user_id=BOB, **command("/persona"))
        await until(lambda: len(texts(server, GROUP)) == 1, what="/persona in the group")
        mention = {"entities": [{"type": "mention", "offset": 0, "length": 16}]}
        say(
            server,
            GROUP,
            "@switchboard_bot when is it?",
            user_id=BOB,
            reply_to_message=said,
            **mention,
        )
        await until(lambda: len(texts(server, GROUP)) == 2, what="the answer")
        asked = llm.requests_to("/chat/completions")[-1].body["messages"]
        assert asked[-1] == {
            "role": "user",
            "content": "[User wrote:]\n> The meeting moved to Friday 3pm.\n\nwhen is it?",
        }
        assert "senior software engineer" in asked[0]["content"]
        # Bob's DM has no persona; the group's stays the group's.
        say(server, BOB, "hello")
        await until(lambda: texts(server, BOB), what="the DM answer")
        assert "senior software engineer" not in system_of(llm)
        # The stored question is the person's own words only.
        say(server, BOB, "again")
        await until(lambda: len(texts(server, BOB)) == 2, what="the second DM answer")
        bot_message = server.messages[(GROUP, 5)]  # the answer to "when is it?"
        assert bot_message["from"]["id"] == BOT_ID
        say(server, GROUP, "and where?", user_id=BOB, reply_to_message=bot_message)
        await until(lambda: len(texts(server, GROUP)) == 3, what="the reply to the bot")
        asked = llm.requests_to("/chat/completions")[-1].body["messages"]
        # Bob's context has that answer already: not sent twice.
        assert asked[-3] == {"role": "user", "content": "when is it?"}
        assert asked[-1] == {"role": "user", "content": "and where?"}
        # Alice's context has not: the bot's answer to Bob goes with her question.
        say(server, GROUP, "really?", user_id=ALICE, reply_to_message=bot_message)
        await until(lambda: len(texts(server, GROUP)) == 4, what="Alice's reply to the bot")
        asked = llm.requests_to("/chat/completions")[-1].body["messages"]
        assert [m["role"] for m in asked] == ["system", "user"]
        assert asked[-1]["content"] == (
            "[assistant wrote:]\n> Echo: [User wrote:]\n> The meeting moved to Friday 3pm."
            "\n>\n> when is it?\n\nreally?"
        )


async def test_voice_auto_answers_voice_with_voice_and_text_with_text(
    sqlite_url: str, llm: FakeLLM, server: FakeTelegramServer
) -> None:
    llm.script(transcript="What is the capital of France?", reply="Paris.")
    async with running_bot(settings_for(sqlite_url, llm, server), server, llm):
        say(server, USER, "/voice auto", **command("/voice"))
        await until(lambda: texts(server, USER), what="/voice auto")
        assert texts(server, USER)[-1].startswith("Voice replies: auto")
        server.push_update({"message": voice_message(server)})
        voices = await until(
            lambda: [c for c in server.calls_for("sendVoice", USER) if c.ok],
            what="the spoken answer",
        )
        assert texts(server, USER)[1:] == ["Transcript: What is the capital of France?", "Paris."]
        (voice,) = voices
        assert next(iter(voice.files.values()))[:4] == b"OggS"
        last_text = server.calls_for("sendMessage", USER)[-1]
        assert last_text.time < voice.time  # the voice message comes after the text
        (speech,) = llm.requests_to("/audio/speech")
        assert speech.body["input"] == "Paris." and speech.body["response_format"] == "opus"
        say(server, USER, "typed question")
        await until(lambda: len(texts(server, USER)) == 4, what="the typed answer")
        say(server, USER, "/balance", **command("/balance"))
        await until(lambda: len(texts(server, USER)) == 5, what="/balance")
        assert len([c for c in server.calls_for("sendVoice", USER) if c.ok]) == 1
        assert len(llm.requests_to("/audio/speech")) == 1
