-- Hand a batch of stream entries on, atomically: dedupe by event id, fold repeated
-- alerts, push to outboxes or the dead-letter queue, count, and XACK. Because it is one
-- script, a dispatcher killed at any point leaves every entry either fully handed on and
-- acknowledged, or untouched and pending (to be read again).
--
-- KEYS: 1 stream, 2 seen (current bucket), 3 seen (previous bucket), 4 DLQ hash,
--       5 DLQ index, 6 stats hash, 7 live fold keys set, 8 ledger
-- ARGV: 1 group, 2 now (ms), 3 seen TTL (ms), 4 outbox key prefix, 5 ops (msgpack
-- array), then one blob per op. ops[j] is one of (its blob is ARGV[5 + j]):
--   {'D', entry id, dead-letter id}                      blob: the dead-letter record
--   {'E', entry id, event id, kind, fold key or '', fold window (ms),
--    {close key...}, {channel...}, muted}                blob: the raw envelope
-- `muted`: every channel of the event (or its kind) is muted: accounted, not sent.
-- The per-event fields travel as one msgpack array rather than ~10 arguments each: the
-- client packs it in C and Redis unpacks it in C (cmsgpack), which is most of what it
-- cost to ship them one by one (docs/benchmarks/engine.md).
local stream, group = KEYS[1], ARGV[1]
local now, seen_ttl, outbox_prefix = tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local ops = cmsgpack.unpack(ARGV[5])
local counts = {}
local function count(name, n)
  counts[name] = (counts[name] or 0) + (n or 1)
end
local acks = {}
local pushes, order = {}, {}
for j, o in ipairs(ops) do
  local op, blob = o[1], ARGV[5 + j]
  if op == 'D' then
    dead_letter(KEYS[4], KEYS[5], KEYS[6], false, o[3], blob, now)
    acks[#acks + 1] = o[2]
  else
    local entry, event_id, kind = o[2], o[3], o[4]
    local fkey, window = o[5], o[6]
    local closes, channels, raw = o[7], o[8], blob
    acks[#acks + 1] = entry
    count('${IN_PREFIX}' .. kind)
    if redis.call('SISMEMBER', KEYS[3], event_id) == 1
        or redis.call('SADD', KEYS[2], event_id) == 0 then
      count('${DUPLICATES}')
      ledger(KEYS[8], now, event_id, '${DUPLICATE}')
    else
      for _, key in ipairs(closes) do
        if key == '${CLOSE_ALL}' then
          local live = redis.call('SMEMBERS', KEYS[7])
          for _, k in ipairs(live) do redis.call('DEL', k) end
          redis.call('DEL', KEYS[7])
        else
          redis.call('DEL', key)
          redis.call('SREM', KEYS[7], key)
        end
      end
      local folded, since, suppressed = 0, 0, false
      if o[9] then
        suppressed = true
        ledger(KEYS[8], now, event_id, '${MUTED}')
        count('${MUTED}')
        count('${MUTED_PREFIX}' .. kind)
      elseif fkey ~= '' then
        local st = redis.call('HMGET', fkey, 'last', 'count', 'since')
        local last = tonumber(st[1])
        if last and now - last < window then
          if tonumber(st[2] or '0') == 0 then redis.call('HSET', fkey, 'since', now) end
          redis.call('HINCRBY', fkey, 'count', 1)
          suppressed = true
          ledger(KEYS[8], now, event_id, '${FOLDED}')
          count('${FOLDED}')
          count('${FOLDED_PREFIX}' .. kind)
        else
          folded, since = tonumber(st[2] or '0'), tonumber(st[3] or '0')
          redis.call('HSET', fkey, 'last', now, 'count', 0, 'since', 0)
          redis.call('PEXPIRE', fkey, math.max(window * 2, 86400000))
          redis.call('SADD', KEYS[7], fkey)
        end
      end
      if not suppressed then
        local item = '${OUTBOX_MAGIC}:' .. folded .. ':' .. since .. ':' .. now .. ':0|' .. raw
        for _, channel in ipairs(channels) do
          local list = pushes[channel]
          if not list then
            list = {}
            pushes[channel] = list
            order[#order + 1] = channel
          end
          list[#list + 1] = item
        end
        if #channels == 0 then count('${UNROUTED}') end
      end
    end
  end
end
for _, channel in ipairs(order) do
  local list = pushes[channel]
  for j = 1, #list, 1000 do  -- one RPUSH per outbox per 1000 items (unpack's stack limit)
    redis.call('RPUSH', outbox_prefix .. channel, unpack(list, j, math.min(j + 999, #list)))
  end
  count('${QUEUED_PREFIX}' .. channel, #list)
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
