"""Which webhooks the sandbox knows: id → token and channel, plus the five defaults.

The defaults are deterministic fake values so a Herald config can point at a sandbox
without asking it anything; their tokens are public by design and safe to print.
"""

from dataclasses import dataclass

from ground.channels import CHANNELS

FIRST_WEBHOOK_ID = 100000000000000001
FIRST_CHANNEL_ID = 200000000000000001


@dataclass
class Webhook:
    """One webhook: `deleted` imitates a webhook removed in Discord (answers 404)."""

    id: str
    token: str
    channel: str
    deleted: bool = False

    @property
    def path(self) -> str:
        return f"/api/webhooks/{self.id}/{self.token}"


def default_token(channel: str) -> str:
    return f"sandbox-token-{channel}"


def default_webhooks() -> list[Webhook]:
    """One webhook per Herald channel: ids 100000000000000001.., `sandbox-token-<channel>`."""
    return [
        Webhook(str(FIRST_WEBHOOK_ID + i), default_token(name), name)
        for i, name in enumerate(CHANNELS)
    ]


def channel_webhooks(base_url: str) -> dict[str, str]:
    """Map each Herald channel to its default sandbox webhook URL under `base_url`."""
    root = base_url.rstrip("/")
    return {hook.channel: root + hook.path for hook in default_webhooks()}


def parse_webhook_spec(spec: str) -> Webhook:
    """Parse `ID:TOKEN:CHANNEL` (the `--webhook` option); raise ValueError saying what's wrong."""
    parts = spec.split(":")
    if len(parts) != 3 or not all(parts):
        raise ValueError(f"expected ID:TOKEN:CHANNEL, got {len(parts)} part(s)")
    webhook_id, token, channel = parts
    if not webhook_id.isdigit():
        raise ValueError(f"webhook id must be digits (a snowflake), got {webhook_id!r}")
    return Webhook(webhook_id, token, channel)


class WebhookRegistry:
    """Webhooks by id, with the channel each posts into and a stable id per channel."""

    def __init__(self, hooks: list[Webhook], *, strict_tokens: bool) -> None:
        self.strict_tokens = strict_tokens
        self._configured = [Webhook(h.id, h.token, h.channel) for h in hooks]
        self.hooks: dict[str, Webhook] = {}
        self.channel_ids: dict[str, str] = {}
        self.reset()

    def reset(self) -> None:
        """Forget auto-registered webhooks and restore deleted ones."""
        self.hooks = {h.id: Webhook(h.id, h.token, h.channel) for h in self._configured}
        self.channel_ids = {}
        for name in CHANNELS:
            self.channel_id(name)
        for hook in self.hooks.values():
            self.channel_id(hook.channel)

    def channel_id(self, channel: str) -> str:
        if channel not in self.channel_ids:
            self.channel_ids[channel] = str(FIRST_CHANNEL_ID + len(self.channel_ids))
        return self.channel_ids[channel]

    def channel_name(self, channel_id: str) -> str | None:
        for name, cid in self.channel_ids.items():
            if cid == channel_id:
                return name
        return None

    def add(self, hook: Webhook) -> Webhook:
        self.hooks[hook.id] = hook
        self.channel_id(hook.channel)
        return hook

    def lookup(self, webhook_id: str, token: str) -> Webhook | None:
        """The webhook for `webhook_id`, auto-registering an unknown id unless strict."""
        hook = self.hooks.get(webhook_id)
        if hook is None and not self.strict_tokens:
            hook = self.add(Webhook(webhook_id, token, f"webhook-{webhook_id}"))
        return hook
