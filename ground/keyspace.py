"""Every Redis key, stream field and counter name Herald uses, named once.

Python builds keys with these functions; the Lua scripts get their keys through KEYS
(or a prefix in ARGV) and their field and counter names by `lua()`, which fills the
`${NAME}` placeholders of a script from `LUA_NAMES` below, so no script spells a name
or depends on a prefix's length.
"""

from string import Template
from typing import Final

ROOT: Final = "herald"

# -- streams: the contract between producers and the dispatcher -----------------------------

STREAM_PREFIX: Final = f"{ROOT}:events"
PAYLOAD_FIELD: Final = b"e"
"""Each stream entry holds one msgpack-encoded Envelope under this field."""
STREAM_MAXLEN: Final = 1_000_000
"""Approximate cap of each lane's stream: the backstop if no dispatcher runs for long."""
GROUP: Final = "herald-dispatch"
"""The consumer group every dispatcher joins on each lane's stream."""


def stream(lane: str, prefix: str = STREAM_PREFIX) -> str:
    """A lane's stream (`critical`, `normal`, `bulk`)."""
    return f"{prefix}:{lane}"


PRODUCERS: Final = f"{ROOT}:producers:"
"""Prefix of each live producer's stats hash: `<source>:<host>:<pid>`."""

# -- the engine's state ---------------------------------------------------------------------

DLQ: Final = f"{ROOT}:dlq"
"""Hash: dead-letter id -> msgpack DeadLetter."""
DLQ_INDEX: Final = f"{ROOT}:dlq:index"
"""Sorted set: dead-letter id scored by time of death, for listing newest first."""
STATS: Final = f"{ROOT}:stats"
"""Hash of engine-wide counters (names below)."""
FOLDS: Final = f"{ROOT}:folds"
"""Set of live fold keys, so a recovery can close every window at once."""
LEDGER: Final = f"{ROOT}:ledger"
"""Capped stream of what became of each event id (fields below). Lets an operator (or the
chaos suite) account for every published event; dead letters are in the DLQ."""
LEDGER_MAXLEN: Final = 1_000_000
"""Hard cap of the ledger; the dispatcher also trims it to `delivery.ledger_retention`."""
OUTBOX_PREFIX: Final = f"{ROOT}:outbox:"
CHANNEL_PREFIX: Final = f"{ROOT}:channel:"
DISPATCHERS: Final = f"{ROOT}:dispatchers:"
"""Prefix of each live dispatcher's heartbeat key (short TTL; `herald status` counts them)."""
DISPATCHER_WEBHOOKS: Final = f"{ROOT}:webhooks:"
RATE_PREFIX: Final = f"{ROOT}:rl:"
"""Prefix of the rate budgets' keys (see worker/ratelimit.py)."""


def outbox(channel: str) -> str:
    """List of outbox items (worker/outbox.py) waiting for the channel's webhook."""
    return OUTBOX_PREFIX + channel


def channel_state(channel: str) -> str:
    """Hash of a channel's schedule and counters (the `STATE_*` fields and counters)."""
    return CHANNEL_PREFIX + channel


def flush_lock(channel: str) -> str:
    return f"{ROOT}:lock:{channel}"


def flush_queued(channel: str) -> str:
    return f"{ROOT}:queued:{channel}"


def seen(bucket: int) -> str:
    return f"{ROOT}:seen:{bucket}"


def fold(kind: str, key: str) -> str:
    return f"{ROOT}:fold:{kind}:{key}"


def dispatcher_heartbeat(name: str) -> str:
    return DISPATCHERS + name


def dispatcher_webhooks(name: str) -> str:
    """The channels a running dispatcher holds a webhook for: a hash of channel ->
    rate-budget key (`webhook:<id>`; the id is not secret, the token never leaves the
    config), rewritten with each heartbeat and expiring with it, so `herald status` run
    from a shell without the engine's environment tells the truth."""
    return DISPATCHER_WEBHOOKS + name


# -- the monitor ----------------------------------------------------------------------------

HEARTBEAT_TTL_S: Final = 7 * 86_400
"""A heartbeat key outlives any sane check interval, then goes away with its component."""


def heartbeat(name: str) -> str:
    """String: when component `name` last proved it is alive (epoch ms)."""
    return f"{ROOT}:heartbeat:{name}"


MONITOR_CHECKS: Final = f"{ROOT}:monitor:checks"
"""Hash: check name -> its state as JSON (`worker.status_model.CheckStatus`), for status."""
MONITOR_MEMORY: Final = f"{ROOT}:monitor:memory"
"""Hash: check name -> its state machine's memory, so a restart neither re-pages nor
forgets how long something has been down."""
MONITOR_LEADER: Final = f"{ROOT}:monitor:leader"
"""String with a TTL: the id of the monitor that runs the checks and sends the summary."""
MONITOR_WINDOWS: Final = f"{ROOT}:monitor:maintenance"
"""Hash: stream entry id -> a window announced by a `maintenance_scheduled` event, written
by the dispatcher as it routes the event (worker/announced.py)."""
MONITOR_PAGED: Final = f"{ROOT}:monitor:paged"
"""Hash: Herald's own problem key -> when it was paged, so a new leader sends its recovery."""


def monitor_summary(slot: int) -> str:
    """Set once per summary slot by whoever sent that slot's summary."""
    return f"{ROOT}:monitor:summary:{slot}"


def monitor_uptime(check: str) -> str:
    """Hash: `<bucket>:ok` and `<bucket>:n` per time bucket, the last 24 h of one check."""
    return f"{ROOT}:monitor:uptime:{check}"


# -- fields -----------------------------------------------------------------------------------

LEDGER_EVENT: Final = "e"
LEDGER_OUTCOME: Final = "o"
LEDGER_CHANNEL: Final = "c"
LEDGER_MESSAGE: Final = "m"
LEDGER_TIME: Final = "t"

STATE_RETRY_AT: Final = "retry_at"
STATE_ATTEMPTS: Final = "attempts"
STATE_FIRST_FAILED_MS: Final = "first_failed_ms"
STATE_LAST_ERROR: Final = "last_error"
STATE_DEAD: Final = "dead"
"""Why the channel's webhook is gone; set until an operator replays its dead letters."""
STATE_DEAD_AT_MS: Final = "dead_at_ms"
STATE_SOLO: Final = "solo"
"""Requests left to send one embed each, isolating an unexplained 400."""
STATE_LAST_DELIVERED_MS: Final = "last_delivered_ms"

# -- counters (in STATS, and per channel in its state hash) -----------------------------------

DELIVERED: Final = "delivered"
DIGESTED: Final = "digested"
FOLDED: Final = "folded"
DUPLICATES: Final = "duplicates"
DEAD_LETTERED: Final = "dead_lettered"
MESSAGES: Final = "messages"
REQUESTS: Final = "requests"
RETRIES: Final = "retries"
REPLAYED: Final = "replayed"
UNROUTED: Final = "unrouted"
BAD_REQUESTS: Final = "400"
GONE: Final = "gone"
IN_PREFIX: Final = "in:"
"""`in:<kind>`: events read from the streams, by kind."""
QUEUED_PREFIX: Final = "queued:"
"""`queued:<channel>`: events put in a channel's outbox (after dedupe)."""
FOLDED_PREFIX: Final = "folded:"
"""`folded:<kind>`: repeats folded, by kind."""
LIMITED_PREFIX: Final = "429:"
"""`429:<scope>`: rate-limit answers by scope (user, shared, global, cloudflare)."""

# -- ledger outcomes ----------------------------------------------------------------------------

DUPLICATE: Final = "duplicate"
OUTCOMES: Final = (DELIVERED, DIGESTED, FOLDED, DUPLICATE, DEAD_LETTERED)


LUA_NAMES: Final[dict[str, object]] = {
    "LEDGER_MAXLEN": LEDGER_MAXLEN,
    "LEDGER_EVENT": LEDGER_EVENT,
    "LEDGER_OUTCOME": LEDGER_OUTCOME,
    "LEDGER_CHANNEL": LEDGER_CHANNEL,
    "LEDGER_MESSAGE": LEDGER_MESSAGE,
    "LEDGER_TIME": LEDGER_TIME,
    "STATE_DEAD": STATE_DEAD,
    "STATE_LAST_DELIVERED_MS": STATE_LAST_DELIVERED_MS,
    "DELIVERED": DELIVERED,
    "DIGESTED": DIGESTED,
    "FOLDED": FOLDED,
    "DUPLICATE": DUPLICATE,
    "DUPLICATES": DUPLICATES,
    "DEAD_LETTERED": DEAD_LETTERED,
    "MESSAGES": MESSAGES,
    "UNROUTED": UNROUTED,
    "IN_PREFIX": IN_PREFIX,
    "QUEUED_PREFIX": QUEUED_PREFIX,
    "FOLDED_PREFIX": FOLDED_PREFIX,
    "PAYLOAD_FIELD": PAYLOAD_FIELD.decode(),
}


def lua(*sources: str, **names: object) -> str:
    """Join Lua sources (shared fragments first) and fill in their `${NAME}`s from
    `LUA_NAMES` and `names` (a layer's own, e.g. the outbox item's magic)."""
    return Template("\n".join(sources)).substitute(LUA_NAMES, **names)
