"""Herald's one error hierarchy: every error a user can cause is a `HeraldError`.

Each message says what is wrong and what to do about it, and never carries a webhook
URL (see `ground.redact`).
"""


class HeraldError(Exception):
    """Base class: catch this to handle anything Herald raises on purpose."""


class InvalidEvent(HeraldError, ValueError):
    """Bytes or fields that are not a valid event; the message names the field path."""


class ConfigError(HeraldError, ValueError):
    """A bad setting; the message names the key (e.g. `channels.market-data.webhook`)."""


class RedisUnavailable(HeraldError, ConnectionError):
    """Redis could not be reached; the message names the (redacted) URL."""
