"""Fill a database through the use cases (chats, media, grants, roles, bans, links, the
HTTP API's accounts), and read every row of every table back for comparisons."""

from __future__ import annotations

from contextlib import aclosing
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from bots.bootstrap import open_app
from bots.settings import Settings
from core.errors import CoreError
from core.ports import FormPart, KeyOptions
from core.services.gateway_paid import FormRequest
from core.services.requests import ChatRequest, ImageRequest, SpeechRequest
from storage.backup.schema import tables
from storage.db import create_engine
from tests.fakes.llm_server import FakeLLM
from tests.harness import caller, collect
from tests.known_secrets import JWT_SECRET, TEST_API_KEY

ADMIN = caller("42", name="boss")


def settings_for(url: str, llm: FakeLLM) -> Settings:
    return Settings(
        database_url=url,
        openai_base_url=llm.base_url,
        openai_api_key=TEST_API_KEY,
        welcome_credits="5",
        # The admin's 40-credit image on 4.67 credits ends at -35.33: a negative balance
        # in the backup, as before the overdraft was bounded (1 credit by default).
        max_overdraft="40",
        bot_admins="telegram:42,api:root",
        jwt_secret=JWT_SECRET,
        api_scrypt_n=2**10,
    )


async def fill_through_use_cases(url: str) -> None:
    async with FakeLLM(api_key=TEST_API_KEY) as llm, open_app(settings_for(url, llm)) as app:
        core = app.core
        async with app.uow() as tx:  # what `bots run` does first: take the worker's lease
            await tx.leases.renew(app.worker_id, datetime.now(UTC) + timedelta(seconds=30))
            await tx.commit()
        alice, bob = caller("1", name="алиса ✨"), caller("U2", "slack", "T1", name="bob")
        for who, text, event in [(ADMIN, "hello", "e1"), (alice, "привет 👋", "e2")]:
            await collect(
                core.chat.ask(ChatRequest(caller=who, chat_id="c1", text=text, event_id=event))
            )
        await collect(core.chat.ask(ChatRequest(caller=alice, chat_id="c1", text="and again")))
        llm.enqueue(fail_before_output=500)
        try:
            await collect(core.chat.ask(ChatRequest(caller=bob, chat_id="c9", text="fail me")))
        except CoreError:
            pass  # refunded; recorded as a failed usage event
        await core.media.image(ImageRequest(caller=ADMIN, chat_id="c1", prompt="a cat"))
        await core.media.speech(SpeechRequest(caller=alice, chat_id="c1", text="read this"))
        account = await core.accounts.resolve(alice)
        await core.admin.grant(ADMIN, f"#{account.id}", "12345.678901", "for testing")
        await core.admin.set_role(ADMIN, f"#{account.id}", "admin")
        await core.accounts.set_language(alice, "ru")
        await core.chat_settings.choose_persona(alice, "c1", "tutor")
        await core.chat_settings.set_instructions(alice, "c1", "Кратко, пожалуйста.")
        await core.chat_settings.set_cost_line(alice, True)
        # Linking: bob's Slack account joins a Discord one (a merged_into row).
        dave = caller("777", "discord", name="dave")
        code = await core.accounts.create_link_code(dave)
        await core.accounts.link(bob, code)
        await core.conversations.reset(ADMIN, "c1")
        mallory = caller("666", name="mallory")
        await core.accounts.resolve(mallory)
        await core.admin.set_banned(ADMIN, "666", True)
        await _access(core, alice)
        await _api_accounts(app)


async def _access(core: Any, alice: Any) -> None:
    """Access rules, an invitation, an announcement opt-out and a broadcast (0009_access)."""
    await core.access.set_rule(ADMIN, "telegram:chat:-100777", "allow")
    await core.access.set_rule(ADMIN, "slack:workspace:T9", "block")
    await core.access.invite(ADMIN, "3")
    await core.access.set_muted(alice, True)
    draft = await core.announcements.draft(ADMIN, "a broadcast kept in the backup")
    await core.announcements.confirm(ADMIN, draft.id)  # its delivery list, still pending


async def _api_accounts(app: Any) -> None:
    from core.services.grants import Idempotency

    core = app.core
    principal = await core.auth.register("carol", "correct horse battery")
    await core.auth.login("carol", "correct horse battery", "127.0.0.1")
    await core.api_keys.create(principal, "laptop", KeyOptions())
    # A file uploaded through /v1/files: a gateway_files row (its owner).
    form = (
        FormPart("purpose", b"user_data"),
        FormPart("file", b"notes", filename="notes.txt", content_type="text/plain"),
    )
    await core.files.upload(principal.account, FormRequest(principal.caller, "v1", parts=form))
    await core.auth.logout(principal)
    root = await core.auth.register("root", "another long password")
    await core.admin.grant_to_account(
        root, principal.account.id, "7", "api grant", Idempotency("k-1", "h" * 64)
    )


async def all_rows(url: str) -> dict[str, list[tuple[object, ...]]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            result: dict[str, list[tuple[object, ...]]] = {}
            for table in tables():
                statement = select(table).order_by(*table.primary_key.columns)
                result[table.name] = [tuple(row) for row in (await connection.execute(statement))]
            return result
    finally:
        await engine.dispose()


async def ask_once(url: str, text: str) -> None:
    """One more chat on an existing database (to see that restored ids do not collide)."""
    async with FakeLLM(api_key=TEST_API_KEY) as llm, open_app(settings_for(url, llm)) as app:
        async with aclosing(
            app.core.chat.ask(ChatRequest(caller=caller("5000"), chat_id="new", text=text))
        ) as events:
            assert [e async for e in events][-1].text == f"Echo: {text}"
