"""The usage chart admins get with /stats: requests and credits per day for the last 30
days, stacked by platform, and the top models. A PNG made with matplotlib (Agg, no screen),
drawn in a worker thread so the event loop keeps serving chats meanwhile."""

from __future__ import annotations

import asyncio
import io
from collections import defaultdict
from datetime import date, timedelta

from core.money import MICRO
from core.services.admin import StatsReport
from core.types import StatsDimension, StatsRow

DAYS = 30
TOP_MODELS = 8


async def usage_chart(report: StatsReport, title: str, today: date) -> bytes:
    return await asyncio.to_thread(_draw, report, title, today)


def _per_day(
    report: StatsReport, today: date
) -> tuple[list[date], dict[str, list[float]], dict[str, list[float]]]:
    days = [today - timedelta(days=n) for n in range(DAYS - 1, -1, -1)]
    index = {day.isoformat(): n for n, day in enumerate(days)}
    requests: dict[str, list[float]] = defaultdict(lambda: [0.0] * DAYS)
    credits: dict[str, list[float]] = defaultdict(lambda: [0.0] * DAYS)
    for row in report.month[StatsDimension.DAY_PLATFORM]:
        day, _, platform = row.key.partition(" ")
        if day in index:
            requests[platform][index[day]] += row.requests
            credits[platform][index[day]] += row.credits / MICRO
    return days, dict(requests), dict(credits)


def _draw(report: StatsReport, title: str, today: date) -> bytes:
    # Imported here: matplotlib is heavy, and only admins asking for /stats need it. A bare
    # Figure draws with the Agg backend and needs no pyplot state, so threads are safe.
    from matplotlib.figure import Figure

    days, requests, credits = _per_day(report, today)
    figure = Figure(figsize=(10, 8), dpi=100)
    ax_requests, ax_credits, ax_models = figure.subplots(3, 1)
    labels = [day.strftime("%m-%d") for day in days]
    for axis, series, name in (
        (ax_requests, requests, "requests"),
        (ax_credits, credits, "credits"),
    ):
        bottom = [0.0] * DAYS
        for platform in sorted(series):
            axis.bar(labels, series[platform], bottom=bottom, label=platform)
            bottom = [b + v for b, v in zip(bottom, series[platform], strict=True)]
        axis.set_ylabel(name)
        axis.tick_params(axis="x", labelrotation=90, labelsize=7)
        if series:
            axis.legend(loc="upper left", fontsize=8)
    models = sorted(report.month[StatsDimension.MODEL], key=lambda r: r.requests, reverse=True)
    top = models[:TOP_MODELS]
    ax_models.barh([r.key for r in top][::-1], [r.requests for r in top][::-1])
    ax_models.set_xlabel("requests, last 30 days")
    figure.suptitle(title)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


async def own_usage_chart(days: list[StatsRow], title: str, today: date) -> bytes:
    """/usage chart: one person's credits per day (UTC days) for the last 30 days."""
    return await asyncio.to_thread(_draw_own, days, title, today)


def _draw_own(rows: list[StatsRow], title: str, today: date) -> bytes:
    from matplotlib.figure import Figure  # heavy: imported only when a chart is asked for

    days = [today - timedelta(days=n) for n in range(DAYS - 1, -1, -1)]
    spent = {row.key: row.credits / MICRO for row in rows}
    figure = Figure(figsize=(8, 3), dpi=100)
    axis = figure.subplots()
    axis.bar([d.strftime("%m-%d") for d in days], [spent.get(d.isoformat(), 0.0) for d in days])
    axis.set_ylabel("credits")
    axis.tick_params(axis="x", labelrotation=90, labelsize=7)
    figure.suptitle(title)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
