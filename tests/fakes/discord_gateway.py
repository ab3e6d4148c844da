"""The fake Discord gateway: one websocket session per shard.

HELLO on connect; IDENTIFY (token checked, close 4004 when wrong) → READY with the bot
user and the application, then GUILD_CREATE for the guilds of that shard; heartbeats are
ACKed; RESUME answers RESUMED. Tests dispatch INTERACTION_CREATE / MESSAGE_CREATE through
``Gateway.dispatch``, which routes a guild event to the shard that owns the guild
(``(guild_id >> 22) % shard_count``) and a DM to shard 0. Frames are sent uncompressed
(text), which discord.py accepts even when it asked for zlib-stream.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

if TYPE_CHECKING:
    from tests.fakes.discord_server import FakeDiscord

logger = logging.getLogger(__name__)

HELLO, IDENTIFY, RESUME, HEARTBEAT, HEARTBEAT_ACK, DISPATCH = 10, 2, 6, 1, 11, 0


@dataclass
class Session:
    ws: web.WebSocketResponse
    session_id: str
    shard: tuple[int, int] = (0, 1)
    identified: bool = False
    sequence: int = 0
    intents: int = 0
    heartbeats: int = 0
    sent: list[dict[str, Any]] = field(default_factory=list)

    async def send(self, op: int, data: Any, event: str | None = None) -> None:
        frame: dict[str, Any] = {"op": op, "d": data, "s": None, "t": event}
        if op == DISPATCH:
            self.sequence += 1
            frame["s"] = self.sequence
        self.sent.append(frame)
        await self.ws.send_str(json.dumps(frame))


class Gateway:
    def __init__(self, server: FakeDiscord, heartbeat_interval_ms: int = 41_250) -> None:
        self.server = server
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.sessions: list[Session] = []
        self.identifies: list[dict[str, Any]] = []
        self.resumes = 0
        self._ready = asyncio.Event()
        self._count = 0

    async def wait_ready(self, shards: int = 1, within: float = 10.0) -> None:
        async with asyncio.timeout(within):
            while sum(s.identified for s in self.sessions) < shards:
                self._ready.clear()
                await self._ready.wait()

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        self._count += 1
        session = Session(ws, session_id=f"session{self._count}")
        self.sessions.append(session)
        try:
            await session.send(HELLO, {"heartbeat_interval": self.heartbeat_interval_ms})
            async for raw in ws:
                if raw.type is not WSMsgType.TEXT:
                    continue
                await self._on_frame(session, json.loads(raw.data))
        finally:
            self.sessions.remove(session)
        return ws

    async def _on_frame(self, session: Session, frame: dict[str, Any]) -> None:
        op, data = frame.get("op"), frame.get("d")
        if op == HEARTBEAT:
            session.heartbeats += 1
            await session.send(HEARTBEAT_ACK, None)
        elif op == IDENTIFY:
            await self._identify(session, data)
        elif op == RESUME:
            self.resumes += 1
            if data.get("token") != self.server.token:
                await session.ws.close(code=4004, message=b"Authentication failed.")
                return
            session.identified = True
            await session.send(DISPATCH, {}, "RESUMED")
            self._ready.set()

    async def _identify(self, session: Session, data: dict[str, Any]) -> None:
        self.identifies.append({k: v for k, v in data.items() if k != "token"})
        if data.get("token") != self.server.token:
            await session.ws.close(code=4004, message=b"Authentication failed.")
            return
        shard = data.get("shard") or [0, 1]
        session.shard = (int(shard[0]), int(shard[1]))
        session.intents = int(data.get("intents", 0))
        guilds = [g for g in self.server.guilds.values() if self._owns(session, int(g["id"]))]
        ready = {
            "v": 10,
            "user": self.server.bot_user,
            "guilds": [{"id": g["id"], "unavailable": True} for g in guilds],
            "session_id": session.session_id,
            "resume_gateway_url": self.server.gateway_url,
            "shard": list(session.shard),
            "application": {"id": str(self.server.app_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
        }
        await session.send(DISPATCH, ready, "READY")
        for guild in guilds:
            await session.send(DISPATCH, guild, "GUILD_CREATE")
        session.identified = True
        self._ready.set()

    @staticmethod
    def _owns(session: Session, guild_id: int | None) -> bool:
        shard_id, count = session.shard
        if guild_id is None:
            return shard_id == 0
        return (guild_id >> 22) % count == shard_id

    async def dispatch(self, event: str, payload: dict[str, Any]) -> None:
        """Send one event to the shard that owns it (guild events) or to shard 0 (DMs)."""
        raw_guild = payload.get("guild_id")
        guild_id = int(raw_guild) if raw_guild is not None else None
        targets = [s for s in self.sessions if s.identified and self._owns(s, guild_id)]
        if not targets:
            raise RuntimeError(f"no identified gateway session owns {event} (guild {guild_id})")
        await targets[0].send(DISPATCH, payload, event)

    async def close_all(self) -> None:
        for session in list(self.sessions):
            await session.ws.close(code=1001, message=b"server closing")
