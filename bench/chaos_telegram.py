"""The chaos scenarios on the Telegram adapter: Redis cut, Postgres cut, a worker killed
with -9 and restarted, and hostile webhook bodies (with the API in the same process)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bench.chaos_figures import Row, complete, settled, streaming, telegram_row
from bench.chaos_world import (
    LEASE_MARGIN_S,
    LEASE_TTL_S,
    NORMAL_S,
    World,
    free_port,
    until,
    world,
)
from tests.e2e.telegram_harness import say
from tests.hostile_inputs import BODIES, TEXTS, HostileBody
from tests.known_secrets import TELEGRAM_WEBHOOK_SECRET as WEBHOOK_SECRET

SHORT_ANSWER = "A short and normal answer."
WEBHOOK_PATH = "/telegram/webhook"


@dataclass(frozen=True)
class Size:
    """How big a scenario is: full size, or small enough for CI (--quick)."""

    streaming: int  # people whose answers stream when the fault comes
    during: int  # people who ask during the fault
    after: int  # people who ask once it is over
    words: int  # words in each answer (one every WORD_DELAY_S)
    outage_s: float
    settle_s: float  # how long every person gets to be answered or told
    clients: int  # vanishing API clients


FULL = Size(streaming=10, during=8, after=4, words=300, outage_s=15.0, settle_s=90.0, clients=150)
QUICK = Size(streaming=4, during=3, after=2, words=90, outage_s=5.0, settle_s=45.0, clients=40)
WORD_DELAY_S = 0.05
LATE_S = 60.0  # how long open holds are watched after they were counted


def long_answer(words: int) -> str:
    return " ".join(f"w{i}" for i in range(words))


async def lease_wait() -> None:
    """Every hold must be closed once the lease TTL (and a margin) has passed."""
    await asyncio.sleep(LEASE_TTL_S + LEASE_MARGIN_S)


async def normal_question_answered(here: World, chat: int, ask: Any = None) -> bool:
    """A database left locked shows as a normal question not answered in normal time."""
    here.llm.script(reply=SHORT_ANSWER)
    await (ask or _polling_ask)(here, chat, "a normal question")
    return await until(lambda: complete(here.telegram, chat, SHORT_ANSWER), NORMAL_S)


async def diagnose(row: Row, here: World) -> None:
    """Holds left open: where the bot's tasks wait, and whether the holds close late."""
    if row.open_holds:
        await here.bots[-1].dump_tasks()
        row.notes.append(f"asyncio task stacks printed to {here.bots[-1].log}")
        row.notes.append(await late_holds(here))


async def late_holds(here: World, within_s: float = LATE_S) -> str:
    """Whether holds counted open are closed late or not at all (for the notes)."""
    started = asyncio.get_running_loop().time()
    while asyncio.get_running_loop().time() - started < within_s:
        if not await here.open_holds():
            elapsed = asyncio.get_running_loop().time() - started
            return f"the open holds were all closed {elapsed:.0f} s later"
        await asyncio.sleep(1.0)
    return f"{await here.open_holds()} holds still open {within_s:.0f} s later"


async def _polling_ask(here: World, chat: int, text: str) -> None:
    say(here.telegram, chat, text)


async def finish(row: Row, here: World, answer: str, chats: list[int]) -> Row:
    await telegram_row(row, here, chats, answer)
    await diagnose(row, here)
    row.locked = not await normal_question_answered(here, 99_999)
    for bot in here.bots:
        await bot.stop()
    row.tracebacks = here.tracebacks()
    return row


async def outage(kind: str, size: Size, checkout: Path, folder: Path) -> Row:
    """``kind`` ("redis" or "postgres") cut by its TCP proxy while answers stream."""
    answer = long_answer(size.words)
    row = Row(f"{kind} outage")
    base = 1000 if kind == "redis" else 2000
    before = [base + i for i in range(size.streaming)]
    during = [base + 100 + i for i in range(size.during)]
    after = [base + 200 + i for i in range(size.after)]
    async with world(checkout, folder / kind, proxies=(kind,)) as here:
        here.llm.script(reply=answer, delay=WORD_DELAY_S)
        await here.start_polling_bot(here.bot_env(through_proxy=(kind,)))
        for chat in before:
            say(here.telegram, chat, "tell me a long story")
        if not await until(
            lambda: all(streaming(here.telegram, c, answer) for c in before), size.settle_s
        ):
            row.notes.append("not every answer was streaming when the cut came")
        proxy = here.proxies[kind]
        await proxy.stop()
        for chat in during:
            say(here.telegram, chat, "and another story")
        await asyncio.sleep(size.outage_s)
        await proxy.start()
        for chat in after:
            say(here.telegram, chat, "one more story")
        everyone = before + during + after
        await until(lambda: all(settled(here.telegram, c, answer) for c in everyone), size.settle_s)
        await lease_wait()
        return await finish(row, here, answer, everyone)


async def kill_worker(size: Size, checkout: Path, folder: Path) -> Row:
    """kill -9 of the worker while answers stream; a successor starts; Telegram redelivers
    the updates that were not answered."""
    answer = long_answer(size.words)
    row = Row("kill -9 worker")
    chats = [3000 + i for i in range(size.streaming)]
    async with world(checkout, folder / "kill") as here:
        server = here.telegram
        here.llm.script(reply=answer, delay=WORD_DELAY_S)
        env = here.bot_env()
        first = await here.start_polling_bot(env)
        updates: dict[int, dict[str, Any]] = {}
        for chat in chats:
            update: dict[str, Any] = {"message": server.user_message(chat, "a long story")}
            update["update_id"] = server.push_update(update)
            updates[chat] = update
        if not await until(lambda: all(streaming(server, c, answer) for c in chats), 60):
            row.notes.append("not every answer was streaming at the kill")
        first.kill()
        await first.process.wait()
        row.notes.append(f"{await here.open_holds()} holds open at the kill")
        await here.start_polling_bot(env)
        await lease_wait()
        open_after_lease = await here.open_holds()
        # Telegram redelivers every update that was not answered.
        for chat in chats:
            if not complete(server, chat, answer):
                server.push_update(updates[chat])
        await until(lambda: all(complete(server, c, answer) for c in chats), size.settle_s)
        await finish(row, here, answer, chats)
        row.open_holds = max(row.open_holds, open_after_lease)
        return row


async def hostile_bodies(size: Size, checkout: Path, folder: Path) -> Row:
    """Every hostile body to the Telegram webhook and to the API, every hostile text as a
    Telegram message; the bot runs both adapters in one process."""
    row = Row("hostile bodies")
    chats = [4000 + i for i in range(len(TEXTS))]
    async with world(checkout, folder / "hostile") as here, aiohttp.ClientSession() as http:
        here.llm.script(reply=SHORT_ANSWER)
        hook_port, api_port = free_port(), free_port()
        env = here.bot_env(
            TELEGRAM_WEBHOOK_URL=f"https://bot.example.org{WEBHOOK_PATH}",
            TELEGRAM_WEBHOOK_SECRET=WEBHOOK_SECRET,
            TELEGRAM_WEBHOOK_HOST="127.0.0.1",
            TELEGRAM_WEBHOOK_PORT=str(hook_port),
            API_HOST="127.0.0.1",
            API_PORT=str(api_port),
        )
        bot = await here.start_bot(["telegram", "api"], env)
        api = f"http://127.0.0.1:{api_port}"
        if not await until(lambda: here.telegram.calls_for("setWebhook"), 60):
            raise RuntimeError(f"the webhook was not set; see {bot.log}")
        await wait_healthy(http, api)
        hook = f"http://127.0.0.1:{hook_port}{WEBHOOK_PATH}"
        _, token = await api_user(http, api, "hostile")
        statuses: list[int] = []
        for body in [*BODIES, *wrong_shapes()]:
            headers = {"Content-Type": body.content_type}
            statuses.append(await post(http, hook, body.body, headers | secret_header()))
            auth = {"Authorization": f"Bearer {token}"}
            for path in ("/ask", "/v1/chat/completions"):
                statuses.append(await post(http, api + path, body.body, headers | auth))

        async def ask(here: World, chat: int, text: str) -> None:
            update = {"update_id": 10**6 + chat, "message": here.telegram.user_message(chat, text)}
            raw = json.dumps(update).encode()  # lone surrogates go as \ud83d escapes
            headers = {"Content-Type": "application/json"} | secret_header()
            statuses.append(await post(http, hook, raw, headers))

        for chat, hostile in zip(chats, TEXTS, strict=True):
            await ask(here, chat, hostile.text)
        await until(lambda: all(settled(here.telegram, c, SHORT_ANSWER) for c in chats), 30)
        await lease_wait()
        await telegram_row(row, here, chats, SHORT_ANSWER)
        await diagnose(row, here)
        row.locked = not await normal_question_answered(here, 99_999, ask)
        await bot.stop()
        row.tracebacks = here.tracebacks()
        errors = sum(s >= 500 for s in statuses)
        row.notes.append(f"{len(statuses)} posts: {errors} answered 5xx")
        return row


def wrong_shapes() -> list[HostileBody]:
    """JSON objects that are not an update (or not a request) of the right shape."""
    return [
        HostileBody("message-a-string", b'{"update_id": 5, "message": "not an object"}'),
        HostileBody("no-update-id", b'{"message": {"text": "hi"}}'),
        HostileBody("chat-id-a-list", b'{"update_id": 6, "message": {"chat": {"id": [1]}}}'),
    ]


def secret_header() -> dict[str, str]:
    return {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}


async def post(http: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str]) -> int:
    try:
        async with http.post(url, data=body, headers=headers) as response:
            await response.read()
            return response.status
    except aiohttp.ClientError:
        return 599  # the server dropped the connection: as bad as a 500


async def wait_healthy(http: aiohttp.ClientSession, base: str) -> None:
    async def healthy() -> bool:
        try:
            async with http.get(base + "/health") as response:
                return response.status == 200
        except aiohttp.ClientError:
            return False

    for _ in range(600):
        if await healthy():
            return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"the API at {base} did not become healthy")


async def api_user(http: aiohttp.ClientSession, base: str, username: str) -> tuple[int, str]:
    """Register and log in: (account id, access token)."""
    credentials = {"username": username, "password": "correct horse battery"}
    async with http.post(base + "/auth/register", json=credentials) as response:
        if response.status != 201:
            raise RuntimeError(f"register: {response.status} {await response.text()}")
        account_id = int((await response.json())["id"])
    async with http.post(base + "/auth/login", json=credentials) as response:
        return account_id, str((await response.json())["access_token"])
