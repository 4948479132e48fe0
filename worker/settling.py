"""Settling a flush job's request: one atomic script (settle.lua) applies the result to
the channel's outbox, the DLQ, the counters and the ledger, if the job still holds the
channel's lease."""

import hashlib
import logging
import time
from collections.abc import Sequence
from typing import Any, cast

from ground import keyspace
from worker import dlq, metrics
from worker.discord import Outcome
from worker.engine import Engine
from worker.head import Head

log = logging.getLogger("herald.flush")

LOST_LOCK = -1
"""The job's lease ran out: another job owns the channel and will resend."""
REPLAYED = -2
"""A bury found the channel alive again: an operator replayed it meanwhile."""
HEAD_MOVED = -3
"""The outbox head is not what the request was made of (the job read it on a primary
that has since been replaced): nothing applied; the items stay and are sent again."""


def head_sum(items: Sequence[bytes]) -> str:
    """The checksum settle.lua compares the outbox head with: SHA-1 of `len:item` of the
    first and the last item. An outbox changes only at its ends (pushed at the tail,
    popped and put back at the head) and its items are unique (event ids), so the two
    ends at the right distance mean the same items between; and it stays O(1) in Lua
    for a digest of thousands."""
    if not items:
        return ""
    ends = (items[0], items[-1])
    return hashlib.sha1(b"".join(b"%d:%s" % (len(i), i) for i in ends)).hexdigest()  # noqa: S324


class Settler:
    """Applies results to one channel's outbox on behalf of the job holding `token`."""

    def __init__(self, engine: Engine, channel: str, token: str, lease_ms: int) -> None:
        self.engine = engine
        self.redis = engine.redis
        self.name = channel
        self.token = token
        self.lease_ms = lease_ms
        self.outbox = keyspace.outbox(channel)
        self.lock = keyspace.flush_lock(channel)
        self.state_key = keyspace.channel_state(channel)

    def settle(
        self,
        *,
        popped: Sequence[bytes],
        keep: list[bytes] | None = None,
        letters: list[dlq.DeadLetter] | None = None,
        delivered: list[str] | None = None,
        message_id: str | None = None,
        digest: bool = False,
        bury: bool = False,
        solo: bool = False,
    ) -> int:
        """Pop `popped` (the head the request was made of, checked), put `keep` back,
        dead-letter `letters`, log `delivered`; 1 when applied, else `LOST_LOCK`,
        `REPLAYED` or `HEAD_MOVED`. `solo`: this request was one of those isolating a bad
        embed, so one fewer is left."""
        keep, letters, delivered = keep or [], letters or [], delivered or []
        args: list[Any] = [self.token, int(time.time() * 1000), self.name, message_id or ""]
        args += ["1" if digest else "0", len(popped), head_sum(popped), len(keep), *keep]
        args.append(len(letters))
        for letter in letters:
            args += [letter.id, dlq.encode(letter)]
        args += [len(delivered), *delivered, *(["bury"] if bury else [])]
        keys = [self.outbox, self.lock, keyspace.DLQ, keyspace.DLQ_INDEX, keyspace.STATS]
        done = int(self.engine.settle(keys=[*keys, self.state_key, keyspace.LEDGER], args=args))
        if solo and done not in {LOST_LOCK, HEAD_MOVED}:
            self.redis.hincrby(self.state_key, keyspace.STATE_SOLO, -1)
        if done == LOST_LOCK:
            log.warning("channel %s: lost the lock before settling; another job resends", self.name)
        elif done == HEAD_MOVED:
            log.warning("channel %s: the outbox changed under the request; resending", self.name)
        elif done == REPLAYED:
            log.info("channel %s: replayed by an operator; stopped dead-lettering", self.name)
        elif letters:
            metrics.dead_lettered(self.name, len(letters))
            for letter in letters:
                log.warning(
                    "dead-lettered event %s on %s: %s", letter.event_id, self.name, letter.reason
                )
        return done

    def bury_all(self, reason: str, outcome: Outcome | None = None) -> None:
        """Dead-letter the whole outbox (the webhook is gone), a thousand at a time."""
        while items := cast(list[bytes], self.redis.lrange(self.outbox, 0, 999)):
            head = Head(items)
            reasons = dict.fromkeys(range(len(items)), reason)
            letters = head.dead_letters(reasons, self.name, outcome)
            if self.settle(popped=items, letters=letters, bury=True) != 1:
                return
            self.redis.pexpire(self.lock, self.lease_ms)
