"""A few Chrome DevTools Protocol calls over aiohttp's websocket client: enough to open a
page in headless Chromium, run JavaScript in it and wait for the DOM to reach a state."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp


class Page:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._ws = ws
        self._ids = itertools.count(1)
        # Events the browser sent meanwhile (after ``watch()``): console messages,
        # uncaught exceptions, network requests, log entries.
        self.events: list[dict[str, Any]] = []

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        message_id = next(self._ids)
        await self._ws.send_json({"id": message_id, "method": method, "params": params})
        async for message in self._ws:
            data = json.loads(message.data)
            if data.get("id") == message_id:
                if "error" in data:
                    raise RuntimeError(f"{method}: {data['error']}")
                return dict(data.get("result", {}))
            if "method" in data:
                self.events.append(data)
        raise RuntimeError("the browser closed the connection")

    async def watch(self) -> None:
        """Start recording console messages, exceptions, log entries and requests."""
        for domain in ("Runtime", "Log", "Network", "Page", "DOM"):
            await self.call(f"{domain}.enable")

    def problems(self) -> list[str]:
        """Console errors and warnings, uncaught exceptions and browser log errors."""
        found = []
        for e in self.events:
            params = e.get("params", {})
            if e["method"] == "Runtime.exceptionThrown":
                found.append(json.dumps(params.get("exceptionDetails", {}))[:500])
            elif e["method"] == "Runtime.consoleAPICalled" and params.get("type") in {
                "error",
                "warning",
                "assert",
            }:
                found.append(json.dumps(params.get("args", []))[:500])
            elif e["method"] == "Log.entryAdded" and params["entry"]["level"] in {
                "error",
                "warning",
            }:
                found.append(f"{params['entry']['source']}: {params['entry']['text']}"[:500])
        return found

    def requested_urls(self) -> list[str]:
        return [
            e["params"]["request"]["url"]
            for e in self.events
            if e["method"] == "Network.requestWillBeSent"
        ]

    async def type_text(self, text: str) -> None:
        await self.call("Input.insertText", text=text)

    async def press(self, key: str, code: str, key_code: int, modifiers: int = 0) -> None:
        """A key press as the keyboard makes it (``Enter``, ``Tab``…); modifiers 8 = Shift."""
        for kind in ("rawKeyDown", "char", "keyUp") if key == "Enter" else ("rawKeyDown", "keyUp"):
            params: dict[str, Any] = {
                "type": kind,
                "key": key,
                "code": code,
                "windowsVirtualKeyCode": key_code,
                "modifiers": modifiers,
            }
            if kind == "char":
                params["text"] = "\r"
            await self.call("Input.dispatchKeyEvent", **params)

    async def set_files(self, selector: str, paths: list[str]) -> None:
        root = await self.call("DOM.getDocument")
        node = await self.call(
            "DOM.querySelector", nodeId=root["root"]["nodeId"], selector=selector
        )
        await self.call("DOM.setFileInputFiles", nodeId=node["nodeId"], files=paths)

    async def evaluate(self, expression: str) -> Any:
        result = await self.call(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"JavaScript failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, within_s: float = 20.0) -> Any:
        async with asyncio.timeout(within_s):
            # Polling the page: the browser offers no event for "this DOM state is reached".
            while not (value := await self.evaluate(expression)):  # noqa: ASYNC110
                await asyncio.sleep(0.1)
        return value


@asynccontextmanager
async def chromium_page(
    binary: str, profile_dir: str, url: str, extra_args: tuple[str, ...] = ()
) -> AsyncIterator[Page]:
    process = await asyncio.create_subprocess_exec(
        binary,
        *extra_args,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile_dir}",
        "--remote-debugging-port=0",
        "about:blank",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stderr is not None
        port = await _devtools_port(process.stderr)
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/json/list") as response:
                targets = await response.json()
            target = next(t for t in targets if t["type"] == "page")
            async with http.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                page = Page(ws)
                if url != "about:blank":
                    await page.call("Page.navigate", url=url)
                yield page
    finally:
        process.kill()
        await process.wait()


async def _devtools_port(stderr: asyncio.StreamReader) -> int:
    async with asyncio.timeout(30):
        while line := await stderr.readline():
            found = re.search(rb"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line)
            if found:
                return int(found.group(1))
    raise RuntimeError("Chromium did not open its DevTools port")
