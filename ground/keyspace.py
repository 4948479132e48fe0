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


REPLICATION_FENCE: Final = f"{ROOT}:replication:fence"
"""A counter written just before a `WAIT` on a connection that did not write the batch
being confirmed (`ground.replicated.fence`)."""

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


# -- the bot and alert mutes ------------------------------------------------------------------

BOT_SEEN_TTL_S: Final = 600
"""An interaction id is remembered this long: twice the 5-minute window its signed
timestamp must fall in, so a replay is refused by one rule or the other."""


def bot_seen(interaction_id: str) -> str:
    """String with a TTL: an interaction already taken in (a second copy is a replay)."""
    return f"{ROOT}:bot:seen:{interaction_id}"


def bot_confirm(nonce: str) -> str:
    """String with a 60 s TTL: a pending /restart or /deploy confirmation (bot/control.py);
    deleted atomically by the click that claims it, so the action runs once."""
    return f"{ROOT}:bot:confirm:{nonce}"


MUTES: Final = f"{ROOT}:mutes"
"""Hash: mute target (`all`, `channel:<name>`, `kind:<kind>`) -> the mute as JSON
(worker/mutes.py), each with its own expiry."""

# -- the books --------------------------------------------------------------------------------

BOOKS_GROUP: Final = "herald-books"
"""The books' consumer group on the lanes' streams: independent of `GROUP` (delivery)."""
BOOKS_PREFIX: Final = f"{ROOT}:books:"
BOOKS_SEEN_DAYS: Final = 8
"""How long (days after the UTC day of its id) an event id is remembered as counted."""
BOOKS_POSITIONS: Final = f"{ROOT}:books:positions"
"""Hash: `net:<pair>`, `cost:<pair>`, `price:<pair>`, `at:<pair>` (units of 1e-8)."""
BOOKS_PNL: Final = f"{ROOT}:books:pnl"
"""Hash: the latest `pnl_update` (fields below)."""
BOOKS_RECENT: Final = f"{ROOT}:books:recent"
"""List, newest first: the last trades (msgpack `books.query.TradeRow`), capped."""


def books_totals(day: str, scope: str) -> str:
    """Hash of one day's figures in one scope (`all`, `pair:<pair>`, `strategy:<name>`)."""
    return f"{BOOKS_PREFIX}day:{day}:{scope}"


def books_curve(day: str, segment: int, scope: str) -> str:
    """Hash of a segment of one day's P&L buckets in one scope: `<bucket>:<s|h|l|d>`.
    Segments of a few hours keep each hash a small listpack (about 5x less memory)."""
    return f"{BOOKS_PREFIX}curve:{day}:{segment}:{scope}"


def books_scopes(day: str) -> str:
    """Set of the pair and strategy scopes a day has figures for."""
    return f"{BOOKS_PREFIX}scopes:{day}"


def books_seen(utc_day: str, minute: str) -> str:
    """Hash of the counted event ids (16 raw bytes) created in one minute of a UTC day."""
    return f"{BOOKS_PREFIX}seen:{utc_day}:{minute}"


def books_recent(pair: str) -> str:
    return f"{BOOKS_RECENT}:{pair}"


BOOKS_SCOPE_ALL: Final = "all"
BOOKS_TRADES: Final = "n"
BOOKS_WINS: Final = "w"
BOOKS_LOSSES: Final = "l"
BOOKS_VOLUME: Final = "vol"
BOOKS_NOTIONAL: Final = "ntl"
BOOKS_PNL_SUM: Final = "pnl"
BOOKS_LATENCY_SUM: Final = "lat"
"""Microseconds."""
BOOKS_LATENCY_MAX: Final = "latmax"
BOOKS_BEST: Final = "best"
BOOKS_WORST: Final = "worst"
BOOKS_SIGNALS: Final = "sig"
BOOKS_UPDATED: Final = "u"
"""Epoch ms of the last change: a report compares it to tell a correction is due."""
BOOKS_PNL_FIELDS: Final = ("at", "id", "daily_pnl", "total_pnl", "open_positions", "exposure")
BOOKS_CURVE_PARTS: Final = ("s", "h", "l", "d")
"""A curve bucket's fields `<bucket>:<part>`: sum, highest and lowest running sum, largest fall."""
BOOKS_POS_NET: Final = "net:"
BOOKS_POS_COST: Final = "cost:"
BOOKS_POS_PRICE: Final = "price:"
BOOKS_POS_AT: Final = "at:"
BOOKS_LUA_NAMES: Final[dict[str, object]] = {
    "TRADES": BOOKS_TRADES,
    "WINS": BOOKS_WINS,
    "LOSSES": BOOKS_LOSSES,
    "VOLUME": BOOKS_VOLUME,
    "NOTIONAL": BOOKS_NOTIONAL,
    "PNL_SUM": BOOKS_PNL_SUM,
    "LATENCY_SUM": BOOKS_LATENCY_SUM,
    "SIGNALS": BOOKS_SIGNALS,
    "LATENCY_MAX": BOOKS_LATENCY_MAX,
    "BEST": BOOKS_BEST,
    "WORST": BOOKS_WORST,
    "UPDATED": BOOKS_UPDATED,
    "POS_NET": BOOKS_POS_NET,
    "POS_COST": BOOKS_POS_COST,
    "POS_PRICE": BOOKS_POS_PRICE,
    "POS_AT": BOOKS_POS_AT,
    **{f"CURVE_{part.upper()}": part for part in BOOKS_CURVE_PARTS},
}
"""The books' field names, for `lua(script, **BOOKS_LUA_NAMES)`."""


def books_report(period_key: str) -> str:
    """Hash: who claimed a period's report and what was posted (books/schedule.py),
    `daily:2026-12-01` -> `herald:books:report:daily:2026-12-01`."""
    return f"{BOOKS_PREFIX}report:{period_key}"


REPORT_STATE: Final = "state"
"""`claimed` (being posted; the holder refreshes `REPORT_CLAIMED_MS`) or `posted`."""
REPORT_HOLDER: Final = "holder"
REPORT_CLAIMED_MS: Final = "claimed_ms"
REPORT_VERSION: Final = "version"
"""0 for the report, n for its n-th correction."""
REPORT_TRADES: Final = "trades"
REPORT_PNL: Final = "pnl"
"""The figures last posted (a decimal string), compared with the books for corrections."""
REPORT_POSTED_MS: Final = "posted_ms"
REPORT_EVENT_ID: Final = "event_id"
REPORT_LATE: Final = "late"

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
MUTED: Final = "muted"
"""Events not sent because every channel they go to (or their kind) was muted."""
MUTED_PREFIX: Final = "muted:"
"""`muted:<kind>`: events muted, by kind."""
LIMITED_PREFIX: Final = "429:"
"""`429:<scope>`: rate-limit answers by scope (user, shared, global, cloudflare)."""

# -- ledger outcomes ----------------------------------------------------------------------------

DUPLICATE: Final = "duplicate"
OUTCOMES: Final = (DELIVERED, DIGESTED, FOLDED, MUTED, DUPLICATE, DEAD_LETTERED)


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
    "MUTED": MUTED,
    "MUTED_PREFIX": MUTED_PREFIX,
    "PAYLOAD_FIELD": PAYLOAD_FIELD.decode(),
}


def lua(*sources: str, **names: object) -> str:
    """Join Lua sources (shared fragments first) and fill in their `${NAME}`s from
    `LUA_NAMES` and `names` (a layer's own, e.g. the outbox item's magic)."""
    return Template("\n".join(sources)).substitute(LUA_NAMES, **names)
