"""Metrics in Prometheus text format that move with real requests, the /metrics endpoint,
and JSON log lines that carry the request id and no secret."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import math
import re
import socket
from contextlib import aclosing
from functools import partial

import aiohttp
import pytest

from bots.bootstrap import open_app
from bots.logging_setup import make_handler
from bots.metrics import SwitchboardMetrics, process_metrics
from bots.metrics_server import count_open_holds, serve_metrics, start_metrics_server
from bots.settings import Settings
from core.errors import InsufficientCredits
from core.money import MICRO
from core.observability import request_id_var
from core.services.requests import ChatRequest
from tests.fakes.llm_server import FakeLLM
from tests.harness import caller, collect
from tests.known_secrets import TEST_API_KEY

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"'
_SAMPLE = re.compile(rf"^({_NAME})(\{{(?:{_LABEL}(?:,{_LABEL})*)?\}})? (\S+)$")


def parse_exposition(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """A strict reader of the text format: every line is HELP, TYPE or a sample of the
    metric last declared, and every value is a number."""
    assert text.endswith("\n")
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    declared: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in {"counter", "gauge", "histogram"} and name not in declared
            declared[name] = kind
            continue
        match = _SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        name, labels, value = match.groups()
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        assert name in declared or declared.get(base) == "histogram", line
        pairs = re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', labels or "")
        samples[(name, frozenset(pairs))] = float(value)
        assert not math.isnan(samples[(name, frozenset(pairs))])
    return samples


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def _settings(url: str, llm: FakeLLM, **extra) -> Settings:
    return Settings(
        database_url=url,
        openai_base_url=llm.base_url,
        openai_api_key=TEST_API_KEY,
        welcome_credits="1",
        **extra,
    )


async def test_a_chat_through_the_core_moves_the_counters(sqlite_url):
    metrics = process_metrics()
    before = parse_exposition(metrics.render())
    database = SwitchboardMetrics()  # the gauge read from the database, this app's only
    async with FakeLLM(api_key=TEST_API_KEY) as llm, open_app(_settings(sqlite_url, llm)) as app:
        database.watch_open_holds(partial(count_open_holds, app.uow))
        llm.script(delay=0.2)
        request = ChatRequest(caller=caller("9"), chat_id="m", text="count me please")
        async with aclosing(app.core.chat.ask(request)) as events:
            first = await anext(events)
            during = parse_exposition(metrics.render())
            await database.refresh()
            open_during = parse_exposition(database.render())
            done = [first, *[e async for e in events]][-1]
        await database.refresh()
        open_after = parse_exposition(database.render())
        llm.script(reply="x " * 50)
        for _ in range(30):  # spend the one welcome credit until a refusal
            try:
                await collect(
                    app.core.chat.ask(ChatRequest(caller=caller("9"), chat_id="m", text="more"))
                )
            except InsufficientCredits:
                break
    after = parse_exposition(metrics.render())
    ok = dict(platform="telegram", feature="chat", outcome="ok")
    assert value(during, "switchboard_requests_in_progress", feature="chat") == 1 + value(
        before, "switchboard_requests_in_progress", feature="chat"
    )
    assert value(after, "switchboard_requests_in_progress", feature="chat") == value(
        before, "switchboard_requests_in_progress", feature="chat"
    )
    # The database's truth: one hold without a settle row while answering, none after.
    assert value(open_during, "switchboard_open_reservations") == 1
    assert value(open_after, "switchboard_open_reservations") == 0
    assert (
        value(after, "switchboard_requests_total", **ok)
        >= value(before, "switchboard_requests_total", **ok) + 2
    )
    refused = dict(platform="telegram", feature="chat", outcome="refused")
    assert value(after, "switchboard_requests_total", **refused) == 1 + value(
        before, "switchboard_requests_total", **refused
    )
    charged = value(after, "switchboard_credits_charged_total", platform="telegram", feature="chat")
    was = value(before, "switchboard_credits_charged_total", platform="telegram", feature="chat")
    assert charged - was >= done.credits / MICRO > 0
    count = "switchboard_upstream_latency_seconds_count"
    assert value(after, count, feature="chat") > value(before, count, feature="chat")
    # The stream was slowed to 0.2 s a chunk: its latency is in a bucket above 0.25 s.
    fast = value(after, "switchboard_upstream_latency_seconds_bucket", feature="chat", le="0.25")
    assert fast < value(after, count, feature="chat")


def test_histogram_buckets_are_cumulative_and_end_at_the_count():
    metrics = process_metrics()
    for seconds in (0.05, 0.3, 4.0, 1000.0):
        metrics.platform_first_text("slack", seconds)
    metrics.platform_rate_limited("slack")
    metrics.platform_edit_sent("slack")
    samples = parse_exposition(metrics.render())
    buckets = sorted(
        (float(dict(labels)["le"]), v)
        for (name, labels), v in samples.items()
        if name == "switchboard_first_text_seconds_bucket" and ("platform", "slack") in labels
    )
    counts = [v for _, v in buckets]
    assert counts == sorted(counts) and buckets[-1][0] == math.inf
    assert counts[-1] == value(samples, "switchboard_first_text_seconds_count", platform="slack")
    assert value(samples, "switchboard_platform_429_total", platform="slack") >= 1


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_metrics_are_served_on_metrics_port(sqlite_url):
    port = _free_port()
    async with FakeLLM(api_key=TEST_API_KEY) as llm:
        settings = _settings(sqlite_url, llm, metrics_port=port, metrics_host="127.0.0.1")
        async with open_app(settings) as app:
            server = asyncio.create_task(serve_metrics(app))
            try:
                async with aiohttp.ClientSession() as http:
                    for _ in range(50):
                        try:
                            response = await http.get(f"http://127.0.0.1:{port}/metrics")
                            break
                        except aiohttp.ClientConnectionError:
                            await asyncio.sleep(0.05)
                    async with response:
                        assert response.status == 200
                        assert response.headers["Content-Type"].startswith(
                            "text/plain; version=0.0.4"
                        )
                        samples = parse_exposition(await response.text())
            finally:
                server.cancel()
                await asyncio.gather(server, return_exceptions=True)
    assert value(samples, "switchboard_redis_fallback") == 0.0


async def test_serve_metrics_is_off_without_a_port_and_a_server_reports_its_port(sqlite_url):
    async with FakeLLM(api_key=TEST_API_KEY) as llm, open_app(_settings(sqlite_url, llm)) as app:
        await asyncio.wait_for(serve_metrics(app), 1)  # returns at once
    runner, port = await start_metrics_server(process_metrics(), "127.0.0.1", 0)
    try:
        assert port > 0
    finally:
        await runner.cleanup()


@pytest.fixture
def json_lines():
    stream = io.StringIO()
    handler = make_handler([TEST_API_KEY], "json", stream)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)


async def test_json_logs_carry_the_request_id_from_the_core(sqlite_url, json_lines):
    async with FakeLLM(api_key=TEST_API_KEY) as llm, open_app(_settings(sqlite_url, llm)) as app:
        # Every model fails before output: the provider logs, inside the request.
        llm.script(fail_before_output=500)
        request = ChatRequest(caller=caller("3"), chat_id="j", text="hello")
        with pytest.raises(Exception, match="upstream|Upstream"):
            await collect(app.core.chat.ask(request))
    lines = json_lines()
    assert lines and all(
        {"ts", "level", "logger", "request_id", "message"} <= set(x) for x in lines
    )
    mine = [x for x in lines if x["request_id"] == request.request_id]
    assert any(x["logger"].startswith("core.") and x["level"] == "WARNING" for x in mine), lines


def test_json_logs_hold_no_secret():
    # A logger of its own: the suite's log capture must not see the secret either.
    stream = io.StringIO()
    logger = logging.getLogger("tests.ops.json")
    logger.addHandler(make_handler([TEST_API_KEY], "json", stream))
    logger.propagate = False
    token = request_id_var.set("req-123")
    try:
        logger.warning("calling with key %s", TEST_API_KEY)
        try:
            raise RuntimeError(f"upstream refused {TEST_API_KEY}")
        except RuntimeError:
            logger.exception("failed")
    finally:
        request_id_var.reset(token)
        logger.handlers.clear()
        logger.propagate = True
    assert TEST_API_KEY not in stream.getvalue()
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [x["request_id"] for x in lines] == ["req-123", "req-123"]
    assert "***" in lines[0]["message"] and "***" in lines[1]["exception"]
