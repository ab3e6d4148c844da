"""Posting what Slack posts to a bot's HTTP endpoint, signed like Slack signs it.

``SlackPoster(url, secret)`` sends Events API envelopes, slash commands and
interactivity payloads with ``X-Slack-Signature: v0=HMAC_SHA256(secret, "v0:{ts}:{body}")``
and ``X-Slack-Request-Timestamp``; ``timestamp_offset`` and ``bad_signature`` forge the
cases a bot must refuse, ``retry_num`` adds ``X-Slack-Retry-Num`` like a redelivery."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp

_event_ids = itertools.count(1)


def sign(secret: str, timestamp: str, body: str) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class Answer:
    status: int
    body: str
    elapsed_s: float


@dataclass
class SlackPoster:
    url: str
    secret: str
    team_id: str = "T0TEAM"
    api_app_id: str = "A0APP"
    response_url: str = "http://127.0.0.1:9/hooks/response"
    session: aiohttp.ClientSession | None = field(default=None, repr=False)

    async def __aenter__(self) -> SlackPoster:
        self.session = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.session is not None:
            await self.session.close()

    async def _post(
        self,
        body: str,
        content_type: str,
        *,
        timestamp_offset: float = 0,
        bad_signature: bool = False,
        retry_num: int | None = None,
    ) -> Answer:
        assert self.session is not None, "use SlackPoster as an async context manager"
        timestamp = str(int(time.time() + timestamp_offset))
        signature = sign("not-the-secret" if bad_signature else self.secret, timestamp, body)
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": signature,
        }
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        started = time.monotonic()
        async with self.session.post(self.url, data=body.encode(), headers=headers) as response:
            text = await response.text()
            return Answer(response.status, text, time.monotonic() - started)

    def envelope(self, event: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
        return {
            "token": "legacy-verification-token",
            "team_id": self.team_id,
            "api_app_id": self.api_app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(_event_ids):08d}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": self.team_id, "is_bot": True}],
        }

    async def event(
        self, event: dict[str, Any], *, event_id: str | None = None, **kw: Any
    ) -> Answer:
        body = json.dumps(self.envelope(event, event_id))
        return await self._post(body, "application/json", **kw)

    async def command(
        self, command: str, text: str, *, user: str, channel: str, **kw: Any
    ) -> Answer:
        form = {
            "token": "legacy-verification-token",
            "team_id": self.team_id,
            "team_domain": "fake",
            "channel_id": channel,
            "channel_name": "general" if channel.startswith("C") else "directmessage",
            "user_id": user,
            "user_name": kw.pop("user_name", user.lower()),
            "command": command,
            "text": text,
            "api_app_id": self.api_app_id,
            "response_url": kw.pop("response_url", self.response_url),
            "trigger_id": kw.pop("trigger_id", f"{next(_event_ids)}.{time.time_ns()}.abc"),
        }
        return await self._post(urlencode(form), "application/x-www-form-urlencoded", **kw)

    async def action(
        self, action_id: str, value: str, *, user: str, channel: str, message_ts: str, **kw: Any
    ) -> Answer:
        payload = {
            "type": "block_actions",
            "team": {"id": self.team_id, "domain": "fake"},
            "user": {"id": user, "team_id": self.team_id, "username": user.lower()},
            "api_app_id": self.api_app_id,
            "container": {"type": "message", "message_ts": message_ts, "channel_id": channel},
            "channel": {"id": channel},
            "message": {"ts": message_ts, "type": "message"},
            "trigger_id": f"{next(_event_ids)}.{time.time_ns()}.abc",
            "response_url": kw.pop("response_url", self.response_url),
            "actions": [
                {"type": "button", "action_id": action_id, "block_id": "b", "value": value}
            ],
        }
        body = urlencode({"payload": json.dumps(payload)})
        return await self._post(body, "application/x-www-form-urlencoded", **kw)
