-- Functions every engine script shares, so each write has one spelling. Prepended to
-- commit.lua, settle.lua and the DLQ's own script by `ground.keyspace.lua`, which also
-- fills in the names written as dollar-braces from the keyspace.

-- Dead-letter one record: the only way Herald writes the dead-letter queue.
-- `state` is the channel's state hash, or false when the record has no channel.
local function dead_letter(dlq, index, stats, state, id, record, now)
  redis.call('HSET', dlq, id, record)
  redis.call('ZADD', index, now, id)
  redis.call('HINCRBY', stats, '${DEAD_LETTERED}', 1)
  if state then redis.call('HINCRBY', state, '${DEAD_LETTERED}', 1) end
end

-- Record what became of an event id in the capped ledger stream.
local function ledger(key, now, event_id, outcome, channel, message_id)
  if channel then
    redis.call('XADD', key, 'MAXLEN', '~', ${LEDGER_MAXLEN}, '*',
      '${LEDGER_EVENT}', event_id, '${LEDGER_OUTCOME}', outcome,
      '${LEDGER_CHANNEL}', channel, '${LEDGER_MESSAGE}', message_id, '${LEDGER_TIME}', now)
  else
    redis.call('XADD', key, 'MAXLEN', '~', ${LEDGER_MAXLEN}, '*',
      '${LEDGER_EVENT}', event_id, '${LEDGER_OUTCOME}', outcome, '${LEDGER_TIME}', now)
  end
end
