"""The demo's closing report: was every event accounted for, and at what cost?"""

from collections.abc import Collection
from dataclasses import asdict, dataclass
from typing import Any

import redis
from rich.console import Console
from rich.table import Table

from ground import keyspace
from worker.ledger import account, percentile


def stats_snapshot(client: redis.Redis) -> dict[str, int]:
    raw: dict[bytes, bytes] = client.hgetall(keyspace.STATS)  # type: ignore[assignment]
    return {k.decode(): int(v) for k, v in raw.items()}


def drained(client: redis.Redis, ids: list[str], since_ms: int) -> bool:
    return not account(client, ids, since_ms=since_ms).missing(ids)


@dataclass
class DemoReport:
    published: int
    delivered: int
    digested: int
    folded: int
    muted: int
    """Not sent: muted with `/alerts off`, still accounted for."""
    duplicate: int
    dead_lettered: int
    missing: int
    messages: int
    requests: int
    rate_limited: int
    bad_requests: int
    sent_twice: int
    p50_ms: float | None
    p99_ms: float | None
    critical_p50_ms: float | None
    critical_max_ms: float | None
    """Publish -> delivered for critical events (pages), which must not wait behind a flood."""
    events_in_total: int
    """Events the engine has taken in over this Redis's whole life (survives restarts)."""

    @property
    def ok(self) -> bool:
        """Every event accounted for, and Discord never said no."""
        return self.missing == 0 and self.rate_limited == 0 and self.bad_requests == 0

    @classmethod
    def build(
        cls,
        client: redis.Redis,
        ids: list[str],
        since_ms: int,
        before: dict[str, int],
        critical: Collection[str] = (),
    ) -> "DemoReport":
        acc = account(client, ids, since_ms=since_ms)
        counts = acc.counts(ids)
        after = stats_snapshot(client)

        def delta(name: str) -> int:
            return after.get(name, 0) - before.get(name, 0)

        limited = sum(delta(k) for k in after if k.startswith(keyspace.LIMITED_PREFIX))
        p50, p99 = percentile(acc.latencies_s, 50), percentile(acc.latencies_s, 99)
        pages = [acc.latency_s[i] for i in critical if i in acc.latency_s]
        page_p50, page_max = percentile(pages, 50), max(pages, default=None)
        return cls(
            published=len(ids),
            delivered=counts[keyspace.DELIVERED],
            digested=counts[keyspace.DIGESTED],
            folded=counts[keyspace.FOLDED],
            muted=counts[keyspace.MUTED],
            duplicate=counts[keyspace.DUPLICATE],
            dead_lettered=counts[keyspace.DEAD_LETTERED],
            missing=counts["missing"],
            messages=delta(keyspace.MESSAGES),
            requests=delta(keyspace.REQUESTS),
            rate_limited=limited,
            bad_requests=delta(keyspace.BAD_REQUESTS),
            sent_twice=sum(acc.repeats.values()),
            p50_ms=_ms(p50),
            p99_ms=_ms(p99),
            critical_p50_ms=_ms(page_p50),
            critical_max_ms=_ms(page_max),
            events_in_total=sum(v for k, v in after.items() if k.startswith(keyspace.IN_PREFIX)),
        )

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}

    def show(self, console: Console) -> None:
        table = Table(title="Demo report", show_header=False, title_justify="left")
        table.add_column(style="bold")
        table.add_column(justify="right")
        per_event = self.requests / self.published if self.published else 0.0
        rows = [
            ("events published", f"{self.published:,}"),
            ("  delivered (one embed each)", f"{self.delivered:,}"),
            ("  summarised in a digest", f"{self.digested:,}"),
            ("  folded by dedupe", f"{self.folded:,}"),
            ("  muted (/alerts off)", f"{self.muted:,}"),
            ("  dead-lettered", f"{self.dead_lettered:,}"),
            ("  not accounted for", f"{self.missing:,}"),
            ("Discord messages sent", f"{self.messages:,}"),
            ("requests", f"{self.requests:,} ({per_event:.3f} per event)"),
            ("429s / 400s", f"{self.rate_limited} / {self.bad_requests}"),
            ("publish → delivered p50 / p99", f"{_s(self.p50_ms)} / {_s(self.p99_ms)}"),
            (
                "  critical alerts p50 / max",
                f"{_s(self.critical_p50_ms)} / {_s(self.critical_max_ms)}",
            ),
        ]
        for name, value in rows:
            table.add_row(name, value)
        console.print(table)
        verdict = "[green]every event accounted for[/]" if self.ok else "[red]see above[/]"
        console.print(verdict)


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def _s(ms: float | None) -> str:
    """Milliseconds for a person: 12 ms, 1.8 s, 3 min 5 s."""
    if ms is None:
        return "-"
    if ms < 1000:
        return f"{ms:.0f} ms"
    if ms < 60_000:
        return f"{ms / 1000:.1f} s"
    minutes, seconds = divmod(round(ms / 1000), 60)
    return f"{minutes} min {seconds} s"
