"""One sandbox's moving parts, shared by the webhook, admin and viewer routes."""

from dataclasses import replace
from typing import Any

from ground.channels import CHANNELS
from ground.rates import Rate
from sandbox.config import SandboxConfig
from sandbox.faults import FaultInjector
from sandbox.ratelimit import RateLimiter
from sandbox.store import MessageStore
from sandbox.webhooks import WebhookRegistry


class SandboxState:
    """Config plus the registry, limiter, fault injector and store built from it."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.registry = WebhookRegistry(config.webhooks, strict_tokens=config.strict_tokens)
        self.limiter = RateLimiter(config.webhook_rate, config.channel_rate, config.global_rate)
        self.faults = FaultInjector(config.faults, config.seed)
        self.store = MessageStore(config.max_messages_per_channel)
        for name in self.registry.channel_ids:
            self.store.ensure_channel(name)

    def reset(self) -> None:
        """Back to the start-up state: messages, counters, windows, faults, deleted webhooks."""
        self.registry.reset()
        self.limiter = RateLimiter(
            self.config.webhook_rate, self.config.channel_rate, self.config.global_rate
        )
        self.faults.reset()
        self.store.reset()
        for name in self.registry.channel_ids:
            self.store.ensure_channel(name)

    def set_limits(self, webhook: Rate | None, channel: Rate | None, global_: Rate | None) -> None:
        """Change limits at run time (windows restart); used by `/admin/limits`."""
        self.config = replace(
            self.config, webhook_rate=webhook, channel_rate=channel, global_rate=global_
        )
        self.limiter = RateLimiter(webhook, channel, global_)

    def limits(self) -> dict[str, str | None]:
        limiter = self.limiter
        return {
            "webhook": str(limiter.webhook_rate) if limiter.webhook_rate else None,
            "channel": str(limiter.channel_rate) if limiter.channel_rate else None,
            "global": str(limiter.global_rate) if limiter.global_rate else None,
        }

    def channels(self) -> list[dict[str, Any]]:
        """Every known channel with its webhooks and count: Herald's five first, in their
        usual order, then the others by name (the viewer lists them in this order)."""
        hooks_by_channel: dict[str, list[dict[str, Any]]] = {}
        for hook in self.registry.hooks.values():
            hooks_by_channel.setdefault(hook.channel, []).append(
                {"id": hook.id, "deleted": hook.deleted}
            )
        return [
            {
                "name": name,
                "id": channel_id,
                "webhooks": hooks_by_channel.get(name, []),
                "messages": self.store.per_channel[name],
            }
            for name, channel_id in sorted(self.registry.channel_ids.items(), key=_listing_order)
        ]


def _listing_order(item: tuple[str, str]) -> tuple[int, str]:
    name = item[0]
    return (CHANNELS.index(name) if name in CHANNELS else len(CHANNELS), name)
