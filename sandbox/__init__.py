"""A local stand-in for Discord's Execute Webhook endpoint, for tests, rehearsals and demos.

Import-light on purpose: Herald's main job calls `channel_webhooks` to point its
channels at a running sandbox without importing aiohttp or jsonschema.
"""

from sandbox.webhooks import channel_webhooks

__all__ = ["channel_webhooks"]
