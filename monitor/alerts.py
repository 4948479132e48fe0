"""What the monitor says: state changes turned into events, pages grouped.

A DOWN waits `group_within` (from when it was taken) for others: when a host or a
network dies, its checks fail in the same round and page once, together, instead of N
times; a group page gets a fold key of its own, so the next outage pages again.
Recoveries and latency alerts go out at once. An exchange heartbeat speaks as
`connection_lost` / reconnected.
"""

import time
from collections.abc import Callable
from datetime import timedelta

from monitor.state import Change
from schemas import ConnectionLost, ConnectionStatus, HighLatency, ServiceDown, ServiceRecovered
from schemas.catalog import AnyEvent
from schemas.types import NAME_MAX, TEXT_MAX, Trend

Publish = Callable[..., object]
"""`Publisher.publish`: the event, and optionally `dedup_key=`."""


class Pager:
    def __init__(
        self, publish: Publish, group_within_s: float, clock: Callable[[], float] = time.time
    ) -> None:
        self.publish = publish
        self.group_within_s = group_within_s
        self.clock = clock
        self._downs: list[Change] = []
        self._since = 0.0
        self.pages = 0
        """Pages sent (a group counts once)."""

    def take(self, changes: list[Change]) -> None:
        for change in changes:
            if change.kind == "down" and change.check.exchange is None:
                if not self._downs:
                    self._since = self.clock()  # the window opens when the first is taken
                self._downs.append(change)
            elif change.kind == "up" and self._withdraw(change):
                continue  # back before its page went out: nothing happened, say nothing
            else:
                self.publish(event_for(change))

    def flush(self, now: float, *, force: bool = False) -> None:
        """Page for the waiting DOWNs once the first has waited `group_within`."""
        if not self._downs or (not force and now - self._since < self.group_within_s):
            return
        downs, self._downs = self._downs, []
        page = service_down(downs, now)
        if len(downs) > 1:  # a group's own fold key: its members' recoveries cannot close it
            self.publish(page, dedup_key=f"group:{min(c.down_since or c.at for c in downs)}")
        else:
            self.publish(page)
        self.pages += 1

    def drop(self) -> None:
        """Forget waiting DOWNs (this monitor no longer leads)."""
        self._downs = []

    def _withdraw(self, up: Change) -> bool:
        waiting = [c for c in self._downs if c.check.name != up.check.name]
        withdrawn = len(waiting) < len(self._downs)
        self._downs = waiting
        return withdrawn


def event_for(change: Change) -> AnyEvent:
    check, at = change.check, change.at
    since = change.down_since if change.down_since is not None else at
    if change.kind == "slow":
        return HighLatency(
            service=check.name,
            latency_ms=change.latency_ms or 0.0,
            threshold_ms=check.latency_warn_ms or 0.0,
            trend=change.trend or Trend.STABLE,
        )
    if check.exchange is not None:
        recovered = change.kind == "up"
        return ConnectionLost(
            exchange=check.exchange,
            duration=timedelta(seconds=max(0.0, at - since)),
            reconnect_attempts=0,
            status=ConnectionStatus.RECONNECTED if recovered else ConnectionStatus.FAILED,
        )
    if change.kind == "up":
        return ServiceRecovered(
            service=check.name,
            server=check.server,
            down_for=timedelta(seconds=max(0.0, at - since)),
            detail=_clip(change.detail, TEXT_MAX) or None,
        )
    return service_down([change], at)


def service_down(downs: list[Change], now: float) -> ServiceDown:
    """One page for one or several checks that went down together."""
    first = min(c.down_since or c.at for c in downs)
    servers = sorted({c.check.server for c in downs})
    if len(downs) == 1:
        check = downs[0].check
        service, impact = check.name, f"{check.impact} ({downs[0].detail})"
    else:
        names = ", ".join(c.check.name for c in downs)
        service = _clip(f"{len(downs)} services: {names}", NAME_MAX)
        impact = "; ".join(f"{c.check.name}: {c.check.impact} ({c.detail})" for c in downs)
    return ServiceDown(
        service=service,
        server=servers[0] if len(servers) == 1 else _clip(", ".join(servers), NAME_MAX),
        duration=timedelta(seconds=max(0.0, now - first)),
        impact=_clip(impact, TEXT_MAX),
    )


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
