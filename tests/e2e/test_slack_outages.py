"""Slack end to end when shared services fail: the database down (the person is told, in
their own language, never silence) and the bot's threads shared between workers."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import pytest

from bots.slack.app import FLAGS_NAMESPACE
from bots.slack.deps import BotThreads
from storage.kv import open_kv
from tests.e2e.slack_harness import ALICE, CHANNEL, DM, TEAM, eventually, settle, slack_stack
from tests.fakes.tcp_proxy import TcpProxy

IVAN, IVAN_DM = "UIVAN", "D0IVAN"


@pytest.mark.postgres
async def test_database_down_the_person_is_told_not_left_in_silence(pg_url: str) -> None:
    parts = urlsplit(pg_url)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    await proxy.start()
    netloc = f"{parts.netloc.rpartition('@')[0]}@127.0.0.1:{proxy.port}".lstrip("@")
    through_proxy = urlunsplit(parts._replace(netloc=netloc))
    try:
        async with slack_stack(through_proxy) as s:
            s.slack.add_user(IVAN, "ivan", locale="ru-RU")
            await s.poster.event(s.message_event("hello", user=IVAN, channel=IVAN_DM))
            await eventually(lambda: s.slack.calls_to("chat.stopStream"), what="answer while up")
            await proxy.stop()  # Postgres goes away: every pooled connection drops

            # No account can be read: the platform's locale says Russian.
            await s.poster.event(s.message_event("ты тут?", user=IVAN, channel=IVAN_DM))
            told = await eventually(
                lambda: [m for m in s.slack.bot_messages(IVAN_DM) if "База данных" in m.text],
                what="the outage told in Russian",
            )
            assert told[0].text.startswith("База данных бота сейчас недоступна")

            await s.poster.command("/balance", "", user=ALICE, channel=CHANNEL)
            (reply,) = await eventually(lambda: s.slack.responses, what="/balance answer")
            assert reply["response_type"] == "ephemeral"
            assert "database is unavailable" in reply["text"]

            await s.mention("anyone home?")
            (private,) = await eventually(
                lambda: [e for e in s.slack.ephemerals if e["user"] == ALICE], what="refused"
            )
            assert "database is unavailable" in private["text"]
            assert len(s.llm.requests) == 1  # nothing went upstream during the outage
            await proxy.start()  # back on the same port, so the app closes cleanly
    finally:
        await proxy.stop()


@pytest.mark.redis
async def test_a_thread_the_bot_joined_is_known_to_every_worker(
    sqlite_url: str, redis_url: str, redis_prefix: str
) -> None:
    async with slack_stack(sqlite_url, redis_url=redis_url, redis_prefix=redis_prefix) as s:
        event = await s.mention("start a thread")
        await eventually(lambda: s.slack.calls_to("chat.stopStream"), what="answer")
        await settle(0.1)
        other = await open_kv(redis_url, prefix=redis_prefix)  # another worker's view
        try:
            threads = BotThreads(other.flags(FLAGS_NAMESPACE), s.deps.client)
            assert await threads.follows(TEAM, CHANNEL, event["ts"], None)
            assert not await threads.follows(TEAM, CHANNEL, "1.000", None)
            assert not await threads.follows(TEAM, DM, event["ts"], None)
        finally:
            await other.aclose()
