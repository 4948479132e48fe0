-- Settle the head of a channel's outbox after one request, if we still hold its lock:
-- pop what was handled, put back what must be resent, dead-letter what cannot be
-- delivered, log what was delivered. Atomic, so a crash never half-applies a result.
--
-- KEYS: 1 outbox, 2 lock, 3 DLQ hash, 4 DLQ index, 5 stats, 6 channel state, 7 ledger
-- ARGV: 1 lock token, 2 now (ms), 3 channel, 4 message id or '', 5 digest ('1' or '0'),
--       6 n to pop, 7 their checksum, 8 k to keep, keep * k, d, (dead id, record) * d,
--       e, event id * e, then optionally 'bury' (only settle if the channel is still dead)
if redis.call('GET', KEYS[2]) ~= ARGV[1] then
  return -1
end
-- A bury (the channel's webhook is gone) only while the channel is still dead: an
-- operator's `herald dlq replay` clears it, and what it put back must not be buried.
if ARGV[#ARGV] == 'bury' and redis.call('HEXISTS', KEYS[6], '${STATE_DEAD}') == 0 then
  return -2
end
local now, channel, message_id, digest = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local n, k = tonumber(ARGV[6]), tonumber(ARGV[8])
-- Pop only the items the request was made of: after a failover the job may settle on a
-- primary whose outbox head differs from the one it read (worker/settling.py: head_sum).
-- The first and the n-th item decide: an outbox changes only at its ends.
if n > 0 then
  local first = redis.call('LINDEX', KEYS[1], 0)
  local last = redis.call('LINDEX', KEYS[1], n - 1)
  if not first or not last
      or redis.sha1hex(#first .. ':' .. first .. #last .. ':' .. last) ~= ARGV[7] then
    return -3
  end
  redis.call('LPOP', KEYS[1], n)
end
for i = k, 1, -1 do redis.call('LPUSH', KEYS[1], ARGV[8 + i]) end
local i = 9 + k
local d = tonumber(ARGV[i])
for j = 1, d do
  dead_letter(KEYS[3], KEYS[4], KEYS[5], KEYS[6], ARGV[i + 2 * j - 1], ARGV[i + 2 * j], now)
end
i = i + 2 * d + 1
local e = tonumber(ARGV[i])
local what = digest == '1' and '${DIGESTED}' or '${DELIVERED}'
for j = 1, e do
  ledger(KEYS[7], now, ARGV[i + j], what, channel, message_id)
end
if e > 0 then
  for _, key in ipairs({KEYS[5], KEYS[6]}) do
    redis.call('HINCRBY', key, what, e)
    redis.call('HINCRBY', key, '${MESSAGES}', 1)
  end
  redis.call('HSET', KEYS[6], '${STATE_LAST_DELIVERED_MS}', now)
end
return 1
