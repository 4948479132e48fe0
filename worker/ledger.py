"""Accounting: what became of a set of published event ids.

Every id ends up delivered, digested, folded by dedupe, muted (`/alerts off`), dropped
as a duplicate, or dead-lettered (with a reason); anything else is still on its way or
lost. The demo report and the chaos suite use this to prove nothing was silently dropped.
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

import redis

from ground import keyspace
from schemas.ids import event_id_millis
from worker.dlq import DeadLetterQueue


@dataclass
class Accounting:
    outcomes: dict[str, str] = field(default_factory=dict)
    """Event id -> its first final outcome."""
    repeats: Counter[str] = field(default_factory=Counter)
    """Event id -> how many times it was delivered beyond the first (duplicates seen by Discord)."""
    latency_s: dict[str, float] = field(default_factory=dict)
    """Event id -> publish-to-delivered seconds (id timestamp to settle), delivered events only."""

    @property
    def latencies_s(self) -> list[float]:
        return list(self.latency_s.values())

    reasons: dict[str, str] = field(default_factory=dict)
    """Event id -> dead-letter reason."""
    duplicates: set[str] = field(default_factory=set)
    """Ids the dispatcher dropped a second copy of (producer retries, replays)."""

    def missing(self, ids: Iterable[str]) -> list[str]:
        return [i for i in ids if i not in self.outcomes]

    def counts(self, ids: Iterable[str]) -> dict[str, int]:
        """Per outcome, how many of `ids`; `duplicate` counts ids that also had a second
        copy dropped, so it overlaps the others."""
        wanted = list(ids)
        tally = Counter(self.outcomes.get(i, "missing") for i in wanted)
        counts = {name: tally.get(name, 0) for name in (*keyspace.OUTCOMES, "missing")}
        counts["duplicate"] = sum(1 for i in wanted if i in self.duplicates)
        return counts


def account(client: redis.Redis, ids: Iterable[str], *, since_ms: int = 0) -> Accounting:
    """Read the ledger (from `since_ms`) and the DLQ for the given ids."""
    reader = LedgerReader(client, ids, since_ms=since_ms)
    reader.poll()
    return reader.finish()


class LedgerReader:
    """Reads the ledger forward from where it last stopped.

    A caller that polls more often than `delivery.ledger_retention` sees every entry even
    though the dispatcher trims the ledger behind it (the soak relies on this to show
    Redis memory returning to its baseline while still accounting for every event)."""

    def __init__(
        self, client: redis.Redis, ids: Iterable[str] | None = None, *, since_ms: int = 0
    ) -> None:
        self.client = client
        self.wanted = None if ids is None else set(ids)
        self.accounting = Accounting()
        self._start = f"{since_ms}-0"

    def poll(self) -> int:
        """Take in every entry written since the last poll; returns how many."""
        taken = 0
        while True:
            entries = cast(
                list[tuple[bytes, dict[bytes, bytes]]],
                self.client.xrange(keyspace.LEDGER, min=self._start, max="+", count=10_000),
            )
            for _entry_id, fields in entries:
                _record(self.accounting, self.wanted, fields)
            taken += len(entries)
            if entries:
                ms, seq = entries[-1][0].decode().split("-")
                self._start = f"{ms}-{int(seq) + 1}"
            if len(entries) < 10_000:
                return taken

    def finish(self) -> Accounting:
        """Add the dead-lettered ids (from the DLQ itself) and return the accounting."""
        result = self.accounting
        for entry in DeadLetterQueue(self.client).entries():
            event_id = entry.event_id  # None: bytes that never decoded to an event
            if event_id is None or (self.wanted is not None and event_id not in self.wanted):
                continue
            if event_id not in result.outcomes:
                result.outcomes[event_id] = keyspace.DEAD_LETTERED
                result.reasons[event_id] = entry.reason
        return result


_EVENT, _OUTCOME, _TIME = (
    name.encode() for name in (keyspace.LEDGER_EVENT, keyspace.LEDGER_OUTCOME, keyspace.LEDGER_TIME)
)
_FINAL = (keyspace.DELIVERED, keyspace.DIGESTED, keyspace.FOLDED, keyspace.MUTED)


def _record(result: Accounting, wanted: set[str] | None, fields: dict[bytes, Any]) -> None:
    event_id = fields[_EVENT].decode()
    if wanted is not None and event_id not in wanted:
        return
    outcome = fields[_OUTCOME].decode()
    if outcome == keyspace.DUPLICATE:
        # A second copy of an id already taken in. Not an outcome: the first copy's own
        # (delivered, folded, dead-lettered...) must still appear, or the id is missing.
        result.duplicates.add(event_id)
        return
    known = result.outcomes.get(event_id)
    if known in _FINAL:
        result.repeats[event_id] += 1  # sent again (a crash mid-request): Discord saw it twice
        return
    result.outcomes[event_id] = outcome
    if outcome == keyspace.DELIVERED and _TIME in fields:
        result.latency_s[event_id] = (int(fields[_TIME]) - event_id_millis(event_id)) / 1000


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]
