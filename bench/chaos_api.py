"""The chaos scenario on the HTTP API: clients that ask for a stream (``/ask`` as SSE and
``/v1/chat/completions`` with stream=true) and vanish at random moments, each with its own
account so what it saw can be set against what it was charged."""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bench.chaos_figures import Row, shared_figures
from bench.chaos_telegram import Size, api_user, lease_wait, wait_healthy
from bench.chaos_world import NORMAL_S, free_port, world
from tests.e2e.test_api_vanishing_clients import MODES
from tests.e2e.test_api_vanishing_clients import _request as raw_request

ANSWER_WORD = re.compile(rb"\bw\d+")
HANG_S = 60.0  # a client still waiting this long for its answer is counted as hung


@dataclass
class Client:
    mode: str
    account_id: int
    saw_text: bool = False  # read part of the answer
    done: bool = False  # read the end of the stream
    error: str = ""


async def vanishing_client(
    port: int, client: Client, token: str, index: int, rng: random.Random
) -> None:
    """One client: sends a streaming request and leaves as its mode says (the modes of
    tests/e2e/test_api_vanishing_clients.py)."""
    if index % 2:
        payload = raw_request("/ask", token, {"text": f"question {index}"}, sse=True)
    else:
        body = {
            "model": "gpt-4o-mini",
            "messages": [{"role": "user", "content": f"question {index}"}],
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        payload = raw_request("/v1/chat/completions", token, body, sse=False)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        async with asyncio.timeout(HANG_S):
            await _play(client, reader, writer, payload, rng)
    except TimeoutError:
        client.error = f"no answer within {HANG_S:.0f} s"
    except (ConnectionError, asyncio.IncompleteReadError) as exc:
        client.error = type(exc).__name__
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def _play(
    client: Client,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    payload: bytes,
    rng: random.Random,
) -> None:
    """Send the request and leave as the client's mode says (or read to the end)."""
    if client.mode == "while_sending":
        writer.write(payload[: rng.randint(1, len(payload) - 1)])
        await writer.drain()
        await asyncio.sleep(rng.uniform(0, 0.05))
        return
    writer.write(payload)
    await writer.drain()
    if client.mode == "before_headers":
        await asyncio.sleep(rng.uniform(0, 0.05))
        return
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        client.error = head.split(b"\r\n", 1)[0].decode(errors="replace")
        return
    if client.mode == "after_headers":
        return
    if client.mode in ("mid_stream", "reset"):
        seen = await reader.read(rng.randint(1, 400))
        client.saw_text = bool(ANSWER_WORD.search(seen))
        await asyncio.sleep(rng.uniform(0, 0.2))
        if client.mode == "reset":
            writer.transport.abort()  # RST, not FIN
        return
    rest = await reader.read()
    client.saw_text = bool(ANSWER_WORD.search(rest))
    client.done = b"event: done" in rest or b"[DONE]" in rest


async def vanishing_clients(size: Size, checkout: Path, folder: Path) -> Row:
    row = Row("vanishing SSE")
    async with world(checkout, folder / "vanish") as here, aiohttp.ClientSession() as http:
        here.llm.script(reply=" ".join(f"w{i}" for i in range(60)), delay=0.01)
        port = free_port()
        env = here.bot_env(API_HOST="127.0.0.1", API_PORT=str(port))
        await here.start_bot(["api"], env)
        base = f"http://127.0.0.1:{port}"
        await wait_healthy(http, base)
        gate = asyncio.Semaphore(4)  # registering hashes passwords: a few at a time

        async def user(i: int) -> tuple[int, str]:
            async with gate:
                return await api_user(http, base, f"vanish{i}")

        users = await asyncio.gather(*(user(i) for i in range(size.clients)))
        rng = random.Random(11)
        clients = [Client(MODES[i % len(MODES)], users[i][0]) for i in range(size.clients)]
        await asyncio.gather(
            *(vanishing_client(port, clients[i], users[i][1], i, rng) for i in range(size.clients))
        )
        await lease_wait()
        charges = await here.charges_by_account()
        row.people = len(clients)
        for client in clients:
            mine = charges.get(client.account_id, [])
            charged = sum(1 for c in mine if c)
            settled_free = sum(1 for c in mine if c == 0)
            if client.error.startswith("no answer"):
                row.silent += 1  # still waiting: nobody answered it
            elif client.mode != "complete":
                row.partial += 1  # left on its own: there is nobody to tell
            elif client.done:
                row.complete += 1
            else:
                row.silent += 1
            if client.saw_text and charged == 0 and settled_free:
                row.free += 1
            row.double += max(0, charged - 1)
        errors = [c.error for c in clients if c.error]
        if errors:
            row.notes.append(f"{len(errors)} clients met an error: {sorted(set(errors))[:3]}")
        await shared_figures(row, here)
        if row.open_holds or row.silent:
            await here.bots[0].dump_tasks()
            row.notes.append(f"asyncio task stacks printed to {here.bots[0].log}")
        row.locked = not await normal_ask(http, base, users[0][1])
        for bot in here.bots:
            await bot.stop()
        row.tracebacks = here.tracebacks()
        return row


async def normal_ask(http: aiohttp.ClientSession, base: str, token: str) -> bool:
    """A plain /ask answered in normal time: the database is not left locked."""
    try:
        async with asyncio.timeout(NORMAL_S):
            async with http.post(
                base + "/ask",
                json={"text": "a normal question"},
                headers={"Authorization": f"Bearer {token}"},
            ) as response:
                await response.read()
                return response.status == 200
    except (TimeoutError, aiohttp.ClientError):
        return False
