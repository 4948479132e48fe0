"""The books' one write: count a batch exactly once, atomically.

The script first looks up every event id of the batch among those already counted; if
any is there (a replay, a spool re-send, or an entry another instance claimed), it
writes nothing and names them, and the caller tallies the batch again without them.
Otherwise it marks the ids counted, merges the batch's sums, curves, positions, recent
trades and latest `pnl_update`, and acknowledges the stream entries, all in one script:
a books process killed at any point leaves a batch either fully counted and acknowledged
or untouched and pending.

Sums go through HINCRBY (exact 64-bit integers). Comparisons of integers (max latency,
best, worst) are done on their decimal strings, also exact. Two things use Lua's doubles,
exact while the values stay under 2^53 units (90 million in money): the running sums
inside a curve bucket (its high, low and largest fall) and the average cost of a
position when it is reduced or flipped (rounded to the unit).
"""

from typing import Any, Final

import msgspec
import redis

from books.money import SCALE
from books.tally import CURVE_SEGMENT, Batch, Tally
from ground import keyspace

APPLY: Final = keyspace.lua(
    """
-- KEYS: 1 positions hash, 2 latest pnl hash, 3 recent list.
-- ARGV: 1 payload (msgpack), 2 group, 3 now (ms), 4 recent cap, 5 recent-by-pair prefix,
-- then the binary values (event ids, trade rows) the payload refers to by ARGV index:
-- Redis's cmsgpack reads no msgpack bin type.
local p = cmsgpack.unpack(ARGV[1])
local group, now, cap = ARGV[2], ARGV[3], tonumber(ARGV[4])
local function fmt(x) return string.format('%.0f', x) end
local function lt(a, b)  -- a < b for canonical integer strings, exactly
  if a == b then return false end
  local na, nb = a:sub(1, 1) == '-', b:sub(1, 1) == '-'
  if na ~= nb then return na end
  local da, db = na and a:sub(2) or a, nb and b:sub(2) or b
  local less = (#da < #db) or (#da == #db and da < db)
  if na then return not less end
  return less
end
local function blobs(t, from, to)
  local out = {}
  for i = from, to or #t do out[#out + 1] = ARGV[t[i]] end
  return out
end
local dups = {}
for _, s in ipairs(p[1]) do
  local ids = blobs(s, 3)
  local got = redis.call('HMGET', s[1], unpack(ids))
  for i, v in ipairs(got) do if v then dups[#dups + 1] = ids[i] end end
end
if #dups > 0 then return {0, dups} end
local SUMS = {'${TRADES}', '${WINS}', '${LOSSES}', '${VOLUME}', '${NOTIONAL}', '${PNL_SUM}',
              '${LATENCY_SUM}', '${SIGNALS}'}
-- Before any write: a sum HINCRBY would take past 64 bits fails the batch with nothing
-- written (Redis keeps a failed script's earlier writes), so the caller can isolate it.
local function fits(cur, delta)
  local d = tonumber(delta)
  return math.abs(d) < ${LIMIT} and math.abs(tonumber(cur or 0) + d) < ${LIMIT}
end
local function over(key, name) return {2, key .. ' ' .. name} end
for _, g in ipairs(p[2]) do
  local cur = redis.call('HMGET', g[1], unpack(SUMS))
  for j = 1, #SUMS do if not fits(cur[j], g[5 + j]) then return over(g[1], SUMS[j]) end end
  for _, b in ipairs(g[17]) do
    for i = 2, #b, 5 do
      local f = b[i] .. ':${CURVE_S}'
      if not fits(redis.call('HGET', b[1], f), b[i + 1]) then return over(b[1], f) end
    end
  end
end
for _, q in ipairs(p[3]) do
  local f = '${POS_NET}' .. q[1]
  if not fits(redis.call('HGET', KEYS[1], f), q[2]) then return over(KEYS[1], f) end
end
for _, s in ipairs(p[1]) do
  local args = {}
  for i = 3, #s do args[#args + 1] = ARGV[s[i]]; args[#args + 1] = '1' end
  redis.call('HSET', s[1], unpack(args))
  redis.call('EXPIREAT', s[1], s[2])
end
for _, g in ipairs(p[2]) do
  local tk = g[1]
  redis.call('SADD', g[3], g[4])
  redis.call('EXPIREAT', g[3], g[5])
  for j, f in ipairs(SUMS) do
    if g[5 + j] ~= '0' then redis.call('HINCRBY', tk, f, g[5 + j]) end
  end
  local cur = redis.call('HMGET', tk, '${LATENCY_MAX}', '${BEST}', '${WORST}')
  if g[14] ~= '' then
    if not cur[1] or lt(cur[1], g[14]) then redis.call('HSET', tk, '${LATENCY_MAX}', g[14]) end
    if not cur[2] or lt(cur[2], g[15]) then redis.call('HSET', tk, '${BEST}', g[15]) end
    if not cur[3] or lt(g[16], cur[3]) then redis.call('HSET', tk, '${WORST}', g[16]) end
  end
  redis.call('HSET', tk, '${UPDATED}', now)
  redis.call('EXPIREAT', tk, g[5])
  for _, b in ipairs(g[17]) do
  local ck = b[1]
  for i = 2, #b, 5 do
    local f = b[i] .. ':'
    local old = redis.call('HMGET', ck, f .. '${CURVE_S}', f .. '${CURVE_H}',
      f .. '${CURVE_L}', f .. '${CURVE_D}')
    local s1, h1 = tonumber(old[1] or 0), tonumber(old[2] or 0)
    local l1, d1 = tonumber(old[3] or 0), tonumber(old[4] or 0)
    local h2, l2, d2 = tonumber(b[i + 2]), tonumber(b[i + 3]), tonumber(b[i + 4])
    redis.call('HINCRBY', ck, f .. '${CURVE_S}', b[i + 1])
    redis.call('HSET', ck, f .. '${CURVE_H}', fmt(math.max(h1, s1 + h2)),
      f .. '${CURVE_L}', fmt(math.min(l1, s1 + l2)),
      f .. '${CURVE_D}', fmt(math.max(d1, d2, h1 - (s1 + l2))))
  end
  redis.call('EXPIREAT', ck, g[5])
  end
end
for _, q in ipairs(p[3]) do
  local pair = q[1]
  local cur = redis.call('HMGET', KEYS[1], '${POS_NET}' .. pair, '${POS_COST}' .. pair)
  local net, cost = tonumber(cur[1] or 0), tonumber(cur[2] or 0)
  for i = 5, #q, 3 do
    local qty, c, px = tonumber(q[i]), tonumber(q[i + 1]), tonumber(q[i + 2])
    local after = net + qty
    if net == 0 or (net > 0) == (qty > 0) then cost = cost + c
    elseif after == 0 then cost = 0
    elseif (after > 0) == (net > 0) then cost = cost * after / net
    else cost = after * px / ${SCALE} end
    net = after
  end
  redis.call('HINCRBY', KEYS[1], '${POS_NET}' .. pair, q[2])
  redis.call('HSET', KEYS[1], '${POS_COST}' .. pair, fmt(cost), '${POS_PRICE}' .. pair, q[3],
    '${POS_AT}' .. pair, q[4])
end
for _, r in ipairs(p[4]) do
  local key = r[1] == '' and KEYS[3] or (ARGV[5] .. r[1])
  for i = 2, #r, 1000 do redis.call('LPUSH', key, unpack(blobs(r, i, math.min(i + 999, #r)))) end
  redis.call('LTRIM', key, 0, cap - 1)
end
local pnl = p[5]
if #pnl > 0 then
  local at = redis.call('HGET', KEYS[2], 'at')
  if not at or tonumber(at) <= tonumber(pnl[1]) then
    redis.call('HSET', KEYS[2], 'at', pnl[1], 'id', pnl[2], 'daily_pnl', pnl[3],
      'total_pnl', pnl[4], 'open_positions', pnl[5], 'exposure', pnl[6])
  end
end
for _, a in ipairs(p[6]) do redis.call('XACK', a[1], group, unpack(a, 2)) end
return {1, 0}
""",
    SCALE=SCALE,
    LIMIT="9.2e18",  # int64 ends at 9.22e18; a double compares with this safely
    **keyspace.BOOKS_LUA_NAMES,
)

_PACK = msgspec.msgpack.Encoder()


class Overflow(Exception):
    """The batch would take a 64-bit sum out of range; nothing was written."""


class Apply:
    """The script, registered once per client."""

    def __init__(self, client: redis.Redis, recent_cap: int) -> None:
        self._script = client.register_script(APPLY)
        self.recent_cap = recent_cap

    def __call__(self, batch: Batch, acks: dict[str, list[bytes]], now_ms: int) -> list[str]:
        """Count `batch` and acknowledge `acks` (stream -> entry ids); [] when done, else
        the ids already counted (nothing was written)."""
        blobs: list[bytes] = []
        packed = _PACK.encode(payload(batch, acks, blobs))
        reply: Any = self._script(
            keys=[keyspace.BOOKS_POSITIONS, keyspace.BOOKS_PNL, keyspace.BOOKS_RECENT],
            args=[
                packed,
                keyspace.BOOKS_GROUP,
                now_ms,
                self.recent_cap,
                keyspace.BOOKS_RECENT + ":",
                *blobs,
            ],
        )
        status = int(reply[0])
        if status == 1:
            return []
        if status == 2:
            raise Overflow(
                f"{reply[1].decode()} would pass 9.2e18 units of 1e-8 (a day's sums and a "
                "position must stay under 9.2e10): the batch was not counted"
            )
        return [_event_id(raw) for raw in reply[1]]


_FIRST_BLOB = 6
"""ARGV index of the first binary value."""


def payload(batch: Batch, acks: dict[str, list[bytes]], blobs: list[bytes]) -> list[Any]:
    """The script's payload; its binary values are appended to `blobs`, referred to by
    their ARGV index."""

    def refer(values: list[bytes]) -> list[int]:
        first = _FIRST_BLOB + len(blobs)
        blobs.extend(values)
        return list(range(first, first + len(values)))

    seen = [
        [key, str(batch.seen_expiry[key]), *refer(members)] for key, members in batch.seen.items()
    ]
    groups = [_group(day, scope, t, batch.expiry[day]) for (day, scope), t in batch.tallies.items()]
    positions = [[q[0], str(q[1]), *q[2:]] for q in batch.positions.values()]
    recent: list[list[Any]] = []
    if batch.recent:
        recent.append(["", *refer(batch.recent)])
        recent.extend([pair, *refer(rows)] for pair, rows in batch.recent_by_pair.items())
    ack_list = [[stream, *(i.decode() for i in ids)] for stream, ids in acks.items() if ids]
    return [seen, groups, positions, recent, batch.pnl, ack_list]


def _group(day: str, scope: str, t: Tally, expire: int) -> list[Any]:
    sums = (t.n, t.wins, t.losses, t.volume, t.notional, t.pnl, t.latency, t.signals)
    extremes = (
        ("", "", "") if t.latency_max is None else (str(t.latency_max), str(t.best), str(t.worst))
    )
    segments: dict[int, list[str]] = {}
    for bucket, parts in sorted(t.buckets.items()):
        segment = segments.setdefault(
            bucket // CURVE_SEGMENT, [keyspace.books_curve(day, bucket // CURVE_SEGMENT, scope)]
        )
        segment.extend(str(v) for v in (bucket, *parts))
    return [
        keyspace.books_totals(day, scope),
        "",
        keyspace.books_scopes(day),
        scope,
        str(expire),
        *(str(v) for v in sums),
        *extremes,
        list(segments.values()),
    ]


def _event_id(raw: bytes) -> str:
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
