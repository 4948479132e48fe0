"""Every Redis key Herald's engine uses, in one place (prefix `herald:`)."""

from typing import Final

GROUP: Final = "herald-dispatch"
"""The consumer group every dispatcher joins on each lane's stream."""

DLQ: Final = "herald:dlq"
"""Hash: dead-letter id -> msgpack DeadLetter."""
DLQ_INDEX: Final = "herald:dlq:index"
"""Sorted set: dead-letter id scored by time of death, for listing newest first."""
STATS: Final = "herald:stats"
"""Hash of engine-wide counters (events in, deduped, folded, delivered, ...)."""
FOLDS: Final = "herald:folds"
"""Set of live fold keys, so a recovery can close every window at once."""
LEDGER: Final = "herald:ledger"
"""Capped stream of what became of each event id: `o` = delivered, digested, folded or
duplicate (dead letters are in the DLQ), with channel `c`, message id `m`, time `t`.
Lets an operator (or the chaos suite) account for every published event."""
LEDGER_MAXLEN: Final = 1_000_000


def outbox(channel: str) -> str:
    return f"herald:outbox:{channel}"


def channel_state(channel: str) -> str:
    """Hash: retry_at, attempts, dead (reason), last_error, delivered, requests, ..."""
    return f"herald:channel:{channel}"


def flush_lock(channel: str) -> str:
    return f"herald:lock:{channel}"


def flush_queued(channel: str) -> str:
    return f"herald:queued:{channel}"


def seen(bucket: int) -> str:
    return f"herald:seen:{bucket}"


def fold(kind: str, key: str) -> str:
    return f"herald:fold:{kind}:{key}"


DISPATCHERS: Final = "herald:dispatchers:"
"""Prefix of each live dispatcher's heartbeat key (short TTL; `herald status` counts them)."""


DISPATCHER_WEBHOOKS: Final = "herald:webhooks:"


def dispatcher_webhooks(name: str) -> str:
    """The channels a running dispatcher holds a webhook for: a hash of channel ->
    rate-budget key (`webhook:<id>`; the id is not secret, the token never leaves the
    config), rewritten with each heartbeat and expiring with it, so `herald status` run
    from a shell without the engine's environment (e.g. beside `herald up`) tells the truth."""
    return f"{DISPATCHER_WEBHOOKS}{name}"


def dispatcher_heartbeat(name: str) -> str:
    return f"{DISPATCHERS}{name}"
