"""RQ jobs that finish a deferred answer: /pnl computes its figures and draws its chart
in a worker, then edits the "thinking…" message it left (`@original`), or posts the
answer as a follow-up when that message cannot be edited (still 404 after retries).

A job gets the `@original` URLs whole (their tokens are masked by `redact` wherever they
are printed) and an explicit description, so RQ's log lines never carry a token. Askers
of the same period within a moment share one job (bot/deferred.py).
"""

import logging
import time
from datetime import date
from typing import Any, Final

import redis
from rq import Queue, get_current_job

from bot.books_view import CHART_NAME, pnl_chart, pnl_figures, pnl_message, pnl_period
from bot.discord_api import EDIT_RETRIES_S, DiscordError, Files, followup_url, patch, post_followup
from bot.replies import message
from ground.redact import redact
from worker.kicker import QUEUE_DEFAULT

log = logging.getLogger(__name__)

JOB_TTL_S: Final = 15 * 60
"""An interaction token lives 15 minutes: a job still queued after that cannot answer."""


def enqueue_pnl(
    client: redis.Redis,
    originals: list[str],
    kind: str,
    day: date | None,
    config_file: str | None,
) -> None:
    Queue(QUEUE_DEFAULT, connection=client).enqueue(
        "bot.jobs.finish_pnl",
        originals,
        kind,
        day.isoformat() if day else None,
        config_file,
        description=f"bot: /pnl {kind} for {len(originals)} asker(s)",
        ttl=JOB_TTL_S,
        result_ttl=0,
        failure_ttl=JOB_TTL_S,
    )


def finish_pnl(originals: list[str], kind: str, day: str | None, config_file: str | None) -> None:
    """Compute the period's figures and chart once, then answer every asker."""
    job = get_current_job()
    client = job.connection if job is not None else redis.Redis()
    files: Files | None = None
    try:
        period = pnl_period(kind, date.fromisoformat(day) if day else None, config_file)
        figures = pnl_figures(client, period)
        files = [(CHART_NAME, pnl_chart(period, figures))]
        body = pnl_message(period, figures, with_chart=True)
    except Exception as exc:  # tell the users rather than leave "thinking…" forever
        log.warning("/pnl failed: %s", redact(f"{type(exc).__name__}: {exc}"))
        body = message(f"Could not compute the P&L ({type(exc).__name__}); see the worker's log.")
    for original in originals:
        try:
            deliver(original, body, files)
        except DiscordError as exc:  # one asker's message gone must not cost the others theirs
            log.warning("/pnl answer not delivered: %s", exc)


def deliver(original: str, body: dict[str, Any], files: Files | None) -> None:
    """Edit @original, retrying a 404 briefly (`EDIT_RETRIES_S`); still 404: post the
    answer as a follow-up instead (a token that is gone fails that too, and is raised)."""
    for delay in (*EDIT_RETRIES_S, None):
        try:
            patch(original, body, files)
            return
        except DiscordError as exc:
            if "HTTP 404" not in str(exc):
                raise
            if delay is None:
                log.info("@original cannot be edited (%s); posting a follow-up", exc)
                post_followup(followup_url(original), body, files)
                return
            time.sleep(delay)
