-- Hand a batch of stream entries on, atomically: dedupe by event id, fold repeated
-- alerts, push to outboxes or the dead-letter queue, count, and XACK. Because it is one
-- script, a dispatcher killed at any point leaves every entry either fully handed on and
-- acknowledged, or untouched and pending (to be read again).
--
-- KEYS: 1 stream, 2 seen (current bucket), 3 seen (previous bucket), 4 DLQ hash,
--       5 DLQ index, 6 stats hash, 7 live fold keys set, 8 ledger
-- ARGV: 1 group, 2 now (ms), 3 seen TTL (ms), 4 ops (msgpack array), then one blob per op.
-- ops[j] is one of (its blob is ARGV[4 + j]):
--   {'D', entry id, dead-letter id, channel or ''}        blob: the dead-letter record
--   {'E', entry id, event id, kind, fold key or '', fold window (ms),
--    {close key...}, {outbox key...}}                     blob: the raw envelope
-- The per-event fields travel as one msgpack array rather than ~10 arguments each: the
-- client packs it in C and Redis unpacks it in C (cmsgpack), which is most of what it
-- cost to ship them one by one (docs/benchmarks/engine.md).
local stream, group = KEYS[1], ARGV[1]
local now, seen_ttl = tonumber(ARGV[2]), tonumber(ARGV[3])
local ops = cmsgpack.unpack(ARGV[4])
local counts = {}
local function count(name, n)
  counts[name] = (counts[name] or 0) + (n or 1)
end
local acks = {}
local function ledger(event_id, outcome)
  redis.call('XADD', KEYS[8], 'MAXLEN', '~', 1000000, '*', 'e', event_id, 'o', outcome, 't', now)
end
local pushes, order = {}, {}
for j, o in ipairs(ops) do
  local op, blob = o[1], ARGV[4 + j]
  if op == 'D' then
    redis.call('HSET', KEYS[4], o[3], blob)
    redis.call('ZADD', KEYS[5], now, o[3])
    count('dead_lettered')
    if o[4] ~= '' then
      redis.call('HINCRBY', 'herald:channel:' .. o[4], 'dead_lettered', 1)
    end
    acks[#acks + 1] = o[2]
  else
    local entry, event_id, kind = o[2], o[3], o[4]
    local fkey, window = o[5], o[6]
    local closes, outboxes, raw = o[7], o[8], blob
    local m = #outboxes
    acks[#acks + 1] = entry
    count('in:' .. kind)
    if redis.call('SISMEMBER', KEYS[3], event_id) == 1
        or redis.call('SADD', KEYS[2], event_id) == 0 then
      count('duplicates')
      ledger(event_id, 'duplicate')
    else
      for _, key in ipairs(closes) do
        if key == '*' then
          local live = redis.call('SMEMBERS', KEYS[7])
          for _, k in ipairs(live) do redis.call('DEL', k) end
          redis.call('DEL', KEYS[7])
        else
          redis.call('DEL', key)
          redis.call('SREM', KEYS[7], key)
        end
      end
      local folded, since, suppressed = 0, 0, false
      if fkey ~= '' then
        local st = redis.call('HMGET', fkey, 'last', 'count', 'since')
        local last = tonumber(st[1])
        if last and now - last < window then
          if tonumber(st[2] or '0') == 0 then redis.call('HSET', fkey, 'since', now) end
          redis.call('HINCRBY', fkey, 'count', 1)
          suppressed = true
          ledger(event_id, 'folded')
          count('folded')
          count('folded:' .. kind)
        else
          folded, since = tonumber(st[2] or '0'), tonumber(st[3] or '0')
          redis.call('HSET', fkey, 'last', now, 'count', 0, 'since', 0)
          redis.call('PEXPIRE', fkey, math.max(window * 2, 86400000))
          redis.call('SADD', KEYS[7], fkey)
        end
      end
      if not suppressed then
        local item = 'H1:' .. folded .. ':' .. since .. ':' .. now .. ':0|' .. raw
        for _, outbox in ipairs(outboxes) do
          local list = pushes[outbox]
          if not list then
            list = {}
            pushes[outbox] = list
            order[#order + 1] = outbox
          end
          list[#list + 1] = item
        end
        if m == 0 then count('unrouted') end
      end
    end
  end
end
for _, outbox in ipairs(order) do
  local list = pushes[outbox]
  for j = 1, #list, 1000 do  -- one RPUSH per outbox per 1000 items (unpack's stack limit)
    redis.call('RPUSH', outbox, unpack(list, j, math.min(j + 999, #list)))
  end
  count('queued:' .. string.sub(outbox, 15), #list)
end
if #acks > 0 then
  redis.call('XACK', stream, group, unpack(acks))
end
-- A bucket is checked while current and for one TTL after (as the previous one); it
-- lives one TTL past its last write, so every id is remembered for at least the TTL.
redis.call('PEXPIRE', KEYS[2], seen_ttl)
for name, n in pairs(counts) do
  redis.call('HINCRBY', KEYS[6], name, n)
end
return #acks
