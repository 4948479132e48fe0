"""Writes a primary took while it had no replica, kept to be written again if that
primary's history is thrown away (`ground.replicated.ReplicatedScript(hold_s=...)`).

With no replica there is nothing to `WAIT` for, and "a replica attaching later syncs
these writes" holds only if the node that takes over is one that synced from this
primary. A split brain breaks it: Sentinel promotes the replica (which leaves this
primary alone, still taking writes) or a node that never finished its sync, and this
primary is then resynced from the new one, its lone writes discarded. So such writes
are held in memory, tagged with the primary's replication id and offset, until one of:

- a `WAIT` on the same history confirms a write made after them (replication is one
  ordered stream: the replica then holds them too): dropped;
- the primary the writer now talks to has another replication id (a promotion always
  starts a new one) or an offset behind theirs (its tail was lost): written again there
  (the dedupe of the readers drops copies of those that survived);
- they are older than `keep_s` or more than `max_args` arguments are held (a primary
  without a replica for that long is a plain single point of failure, which no resend
  can fix): forgotten, with a warning.

Nothing is held until the writer has seen a replica once (`armed`): a lone Redis has no
other node to split from, and must not cost a Publisher 30 s of events in memory.
"""

import logging
import time
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

log = logging.getLogger(__name__)

Call = tuple[Sequence[Any], Sequence[Any]]
"""One script call: (keys, args)."""


class History(NamedTuple):
    """Where a primary's replication stream stands: its id and offset (`INFO replication`)."""

    replid: str
    offset: int

    @classmethod
    def of(cls, info: Mapping[str, Any]) -> "History":
        return cls(str(info.get("master_replid", "")), int(info.get("master_repl_offset", 0)))

    def lost(self, now: "History") -> bool:
        """Whether `now` (the primary answering now) may lack writes made up to `self`."""
        return now.replid != self.replid or now.offset < self.offset


class Held:
    """Unconfirmed calls made on one primary history, oldest first."""

    def __init__(self, keep_s: float, max_args: int) -> None:
        self.keep_s, self.max_args = keep_s, max_args
        self._calls: deque[tuple[float, int, Call]] = deque()
        self._args = 0
        self.on: History | None = None
        self.resent = 0
        """Calls written again on a new primary, over the writer's life."""
        self.forgotten = 0
        """Calls dropped for age or size, over the writer's life."""
        self.armed = False
        """Set once a replica was seen: from then on a primary without one is suspect."""

    def __bool__(self) -> bool:
        return bool(self._calls)

    def __len__(self) -> int:
        return len(self._calls)

    def add(self, calls: Sequence[Call], on: History) -> None:
        """Hold `calls`, just written on history `on` (a no-op when holding is off or
        no replica was ever seen)."""
        if self.keep_s <= 0 or not self.armed:
            return
        now = time.monotonic()
        for call in calls:
            size = len(call[1])
            self._calls.append((now, size, call))
            self._args += size
        if self.on is None or self.on.replid != on.replid or on.offset > self.on.offset:
            self.on = on
        self.prune(now)

    def lost(self, now: History) -> bool:
        """Held calls exist and the primary answering now may not have them."""
        return bool(self._calls) and self.on is not None and self.on.lost(now)

    def take(self) -> list[Call]:
        """The held calls, to be written again (they stay held until confirmed)."""
        self.resent += len(self._calls)
        return [call for _, _, call in self._calls]

    def confirmed(self) -> None:
        self._calls.clear()
        self._args, self.on = 0, None

    def prune(self, now: float) -> None:
        """Forget what is beyond the bounds (also called while the writer is idle)."""
        before = len(self._calls)
        calls = self._calls
        while calls and (now - calls[0][0] > self.keep_s or self._args > self.max_args):
            self._args -= calls.popleft()[1]
        if len(calls) < before:
            if self.forgotten == 0:
                log.warning(
                    "writes taken by a Redis primary with no replica are held for a resend "
                    "for %.0f s (at most %d arguments): older ones are now forgotten, and a "
                    "failover would lose them",
                    self.keep_s,
                    self.max_args,
                )
            self.forgotten += before - len(calls)
