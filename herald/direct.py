"""`herald publish --direct`: post one event straight to its channels' webhooks.

For CI runners that cannot reach Redis. Same renderer, same payload rules, same outcome
handling as the engine (a 429 waits its `retry_after` without using an attempt; 5xx and
transport errors retry with backoff), but nothing is persisted: on failure the command
exits non-zero so the CI step shows it.
"""

import random
import time

from herald.errors import HeraldError
from schemas.envelope import Envelope
from worker.config import Settings
from worker.discord import DiscordClient, OutcomeKind
from worker.payload import build_payload
from worker.render import render_embed

MAX_ATTEMPTS = 5
MAX_WAIT_S = 60.0


def post(envelope: Envelope, settings: Settings, client: DiscordClient | None = None) -> list[str]:
    """Deliver to every channel the event routes to; returns Discord message ids."""
    channels = settings.routes.get(envelope.kind, ())
    targets = [settings.channels[c] for c in channels]
    missing = [c.name for c in targets if c.webhook_url is None]
    if missing:
        names = ", ".join(missing)
        var = "HERALD_WEBHOOK_" + missing[0].upper().replace("-", "_")
        raise HeraldError(f"no webhook configured for #{names}; set {var} (or its _FILE)")
    client = client or DiscordClient(read_timeout=settings.request_timeout_s)
    payload_for = {
        c.name: build_payload(
            [render_embed(envelope)], username=c.username, ping_role_id=c.ping_role
        )
        for c in targets
    }
    return [_send(client, c.webhook_url or "", c.name, payload_for[c.name]) for c in targets]


def _send(client: DiscordClient, url: str, channel: str, payload: dict[str, object]) -> str:
    attempts = 0
    while True:
        outcome = client.execute(url, payload)
        if outcome.kind is OutcomeKind.DELIVERED:
            return outcome.message_id or ""
        if outcome.kind is OutcomeKind.RATE_LIMITED:
            wait = outcome.retry_after if outcome.retry_after is not None else 1.0
            if wait > MAX_WAIT_S:
                raise HeraldError(f"#{channel}: rate limited for {wait:.0f}s; try again later")
            time.sleep(wait)
            continue
        if outcome.kind in (OutcomeKind.INVALID, OutcomeKind.GONE):
            detail = f"{outcome.status} {outcome.error_code or ''} {outcome.error_message or ''}"
            raise HeraldError(f"#{channel}: Discord refused the message: {detail.strip()}")
        attempts += 1
        if attempts >= MAX_ATTEMPTS:
            raise HeraldError(
                f"#{channel}: gave up after {attempts} attempts: {outcome.detail or outcome.status}"
            )
        time.sleep(min(2.0 ** (attempts - 1), 10.0) * random.uniform(0.8, 1.2))
