"""`herald publish --direct`: post one event straight to its channels' webhooks.

For CI runners that cannot reach Redis. The engine's renderer, payload rules and
answers to Discord: a 429 waits its `retry_after` without using an attempt (a global
one likewise, a Cloudflare one at least the engine's `CLOUDFLARE_PAUSE_S`); 5xx and
transport errors retry with the engine's backoff, capped for a CI step; 400 and a gone
webhook fail at once. What it lacks, having no Redis: the engine's shared rate budget
(it cannot know what other processes send to the same webhook, so Discord's 429s are
its only guide), persistence (on failure the command exits non-zero so the CI step
shows it; nothing goes to the DLQ) and dedupe.
"""

import time

from ground.backoff import backoff
from ground.channels import webhook_env
from ground.errors import HeraldError
from schemas.envelope import Envelope
from worker.config import Settings
from worker.discord import DiscordClient, Outcome, OutcomeKind
from worker.flush import CLOUDFLARE_PAUSE_S, RETRY_BASE_S
from worker.payload import build_payload
from worker.render import render_embed

MAX_ATTEMPTS = 5
MAX_WAIT_S = 60.0
"""Longer than this and a CI step is better off failing and being re-run."""
RETRY_CAP_S = 10.0


def post(envelope: Envelope, settings: Settings, client: DiscordClient | None = None) -> list[str]:
    """Deliver to every channel the event routes to; returns Discord message ids."""
    routed = envelope.channels or settings.routes.get(envelope.kind, ())
    targets = [settings.channels[c] for c in routed]
    missing = [c.name for c in targets if c.webhook_url is None]
    if missing:
        names = ", ".join(missing)
        raise HeraldError(
            f"no webhook configured for #{names}; set {webhook_env(missing[0])} (or its _FILE)"
        )
    client = client or DiscordClient(read_timeout=settings.request_timeout_s)
    embeds = [render_embed(envelope)]
    return [
        _send(
            client,
            c.webhook_url or "",
            c.name,
            build_payload(embeds, username=c.username, ping_role_id=c.ping_role),
        )
        for c in targets
    ]


def _send(client: DiscordClient, url: str, channel: str, payload: dict[str, object]) -> str:
    failures = 0
    while True:
        outcome = client.execute(url, payload)
        if outcome.kind is OutcomeKind.DELIVERED:
            return outcome.message_id or ""
        if outcome.kind is OutcomeKind.RATE_LIMITED:
            time.sleep(_rate_limit_wait(outcome, channel))
            continue
        if outcome.kind in (OutcomeKind.INVALID, OutcomeKind.GONE):
            detail = f"{outcome.status} {outcome.error_code or ''} {outcome.error_message or ''}"
            raise HeraldError(f"#{channel}: Discord refused the message: {detail.strip()}")
        failures += 1
        if failures >= MAX_ATTEMPTS:
            raise HeraldError(
                f"#{channel}: gave up after {failures} attempts: {outcome.detail or outcome.status}"
            )
        time.sleep(backoff(failures, base=RETRY_BASE_S, cap=RETRY_CAP_S))


def _rate_limit_wait(outcome: Outcome, channel: str) -> float:
    wait = outcome.retry_after if outcome.retry_after is not None else 1.0
    if outcome.cloudflare:
        wait = max(wait, CLOUDFLARE_PAUSE_S)
    if wait > MAX_WAIT_S:
        raise HeraldError(f"#{channel}: rate limited for {wait:.0f}s; try again later")
    return wait
