"""Which adapters run, and running them side by side on one opened app.

Each adapter package exposes ``runner.run(app)``; it is imported only when chosen, so a
machine running only Slack never imports aiogram."""

from __future__ import annotations

import asyncio
import importlib
import logging
import signal
from collections.abc import Callable, Coroutine
from datetime import timedelta

from bots.bootstrap import App, open_app
from bots.logging_setup import log_to_file
from bots.metrics import process_metrics
from bots.metrics_server import serve_metrics
from bots.settings import Settings, SettingsError
from core.services.leases import WorkerLease, run_lease
from core.services.sweep import ReservationSweeper, run_event_pruner, run_sweeper
from storage.backup.schedule import run_backups

logger = logging.getLogger(__name__)

# How long a stopping worker lets running answers finish (docker stops after 10 s by
# default: give the bot services `stop_grace_period: 40s`).
SHUTDOWN_GRACE_S = 30.0

ADAPTERS: dict[str, Callable[[Settings], bool]] = {
    "telegram": lambda s: s.telegram_bot_token is not None,
    "discord": lambda s: s.discord_bot_token is not None,
    "slack": lambda s: s.slack_bot_token is not None,
    "api": lambda s: s.jwt_secret is not None,
}


def choose_adapters(settings: Settings, requested: list[str]) -> list[str]:
    unknown = [name for name in requested if name not in ADAPTERS]
    if unknown:
        raise SettingsError(f"unknown adapter {unknown[0]!r}; choose from {', '.join(ADAPTERS)}")
    return requested or [name for name, configured in ADAPTERS.items() if configured(settings)]


def _runner(name: str) -> Callable[[App], Coroutine[object, object, None]]:
    try:
        module = importlib.import_module(f"bots.{name}.runner")
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith(f"bots.{name}"):
            raise SettingsError(f"the {name} adapter is not part of this build yet") from None
        raise
    run: Callable[[App], Coroutine[object, object, None]] = module.run
    return run


async def run_adapters(settings: Settings, requested: list[str]) -> None:
    names = choose_adapters(settings, requested)
    if not names:
        logger.info("no messenger token set: opening the console chat")
        await run_console_app(settings)
        return
    runners = [_runner(name) for name in names]
    try:
        async with open_app(settings) as app, asyncio.TaskGroup() as group:
            jobs = _background_jobs(app)
            lease = await _take_lease(app)  # before the first hold is opened
            if lease is not None:
                jobs.append(lease)
            background = [group.create_task(job) for job in jobs]
            adapters = []
            for name, run in zip(names, runners, strict=True):
                logger.info("starting the %s adapter", name)
                adapters.append(group.create_task(run(app)))
            stop_requested = _on_termination_signals()
            waiter = group.create_task(stop_requested.wait())
            await asyncio.wait([*adapters, waiter], return_when=asyncio.FIRST_COMPLETED)
            if stop_requested.is_set():
                # Running answers end like a Stop press (delivered, charged for what was
                # made); reservations settle before the adapters are torn down.
                await app.core.lifecycle.drain(SHUTDOWN_GRACE_S)
            for task in [*adapters, *background, waiter]:
                task.cancel()
    except* SettingsError as group_error:
        # An adapter refusing its settings at start-up: one line, not a task-group trace.
        raise group_error.exceptions[0] from None


def _on_termination_signals() -> asyncio.Event:
    event = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, event.set)
    return event


async def _take_lease(app: App) -> Coroutine[object, object, None] | None:
    """Take this worker's lease (LEASE_INTERVAL, LEASE_TTL) and return its heartbeat job,
    which also refunds the holds of dead workers; None when leases are off."""
    settings = app.settings
    if settings.lease_interval <= 0:
        return None
    sweeper = ReservationSweeper(app.uow, metrics=process_metrics(), notices=app.notices)
    ttl = timedelta(seconds=settings.lease_ttl)
    lease = WorkerLease(app.uow, app.worker_id, ttl, sweeper, progress=app.core.progress)
    # Only renew now: the first sweep comes a beat later, once the adapters have registered
    # where to tell people about answers a dead worker cut off.
    await lease.renew()
    logger.info("worker %s holds its lease", app.worker_id)
    return run_lease(lease, settings.lease_interval)


def _background_jobs(app: App) -> list[Coroutine[object, object, None]]:
    """Metrics endpoint, the sweep of abandoned reservations, scheduled backups, the
    pruning of old processed-event records."""
    settings = app.settings
    # Every worker sends what broadcasts are pending (one at a time, under a lease).
    jobs: list[Coroutine[object, object, None]] = [
        serve_metrics(app),
        app.core.announcements.run(app.worker_id),
    ]
    if settings.sweep_interval > 0:
        jobs.append(
            run_sweeper(
                app.uow,
                settings.sweep_interval,
                older_than=timedelta(seconds=settings.sweep_after),
                metrics=process_metrics(),
                journaled=app.core.billing,
            )
        )
    if settings.event_retention_days > 0:
        retention = timedelta(days=settings.event_retention_days)
        jobs.append(run_event_pruner(app.uow, retention))
    if settings.backup_interval > 0:
        jobs.append(
            run_backups(
                settings.effective_database_url,
                settings.backup_dir,
                settings.backup_interval,
                settings.backup_keep,
            )
        )
    return jobs


async def run_console_app(settings: Settings) -> None:
    from bots.console.runner import run

    # The terminal is the conversation: logs go to a file, warnings and errors still show.
    log_to_file(settings.console_log_file, settings.secret_values(), settings.log_format)
    logger.info("console chat: logging to %s", settings.console_log_file)
    async with open_app(settings) as app:
        await run(app)
