"""``GET /metrics`` on ``METRICS_PORT`` (Prometheus text format), one per worker process."""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from typing import TYPE_CHECKING

from aiohttp import web

from bots.metrics import SwitchboardMetrics, process_metrics
from core.ports import UnitOfWorkFactory

if TYPE_CHECKING:
    from bots.bootstrap import App

logger = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


async def count_open_holds(uow_factory: UnitOfWorkFactory) -> int:
    async with uow_factory() as uow:
        return await uow.ledger.count_open_holds()


def metrics_app(metrics: SwitchboardMetrics) -> web.Application:
    async def scrape(_request: web.Request) -> web.Response:
        await metrics.refresh()
        response = web.Response(text=metrics.render())
        response.headers["Content-Type"] = CONTENT_TYPE
        return response

    application = web.Application()
    application.router.add_get("/metrics", scrape)
    return application


async def start_metrics_server(
    metrics: SwitchboardMetrics, host: str, port: int
) -> tuple[web.AppRunner, int]:
    """Start serving; returns the runner (call ``cleanup()``) and the bound port (useful
    with port 0)."""
    runner = web.AppRunner(metrics_app(metrics), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    bound = runner.addresses[0][1] if runner.addresses else port
    return runner, int(bound)


async def serve_metrics(app: App) -> None:
    """Serve ``/metrics`` until cancelled; returns at once when METRICS_PORT is unset."""
    port = app.settings.metrics_port
    if port is None:
        return
    metrics = process_metrics()
    metrics.watch_redis(lambda: app.kv.degraded)
    metrics.watch_open_holds(partial(count_open_holds, app.uow))
    runner, bound = await start_metrics_server(metrics, app.settings.metrics_host, port)
    logger.info("metrics on http://%s:%d/metrics", app.settings.metrics_host, bound)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
