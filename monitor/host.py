"""The monitor's own host at a glance: memory, CPU and network, for the health summary.

Rates are deltas since the previous `read`, so each summary shows what happened since
the last one rather than since boot.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Protocol

import psutil

NETWORK_CHARS: Final = 100
"""The network status goes into an embed field's name."""


@dataclass(frozen=True, slots=True)
class HostStats:
    memory_pct: float
    cpu_pct: float
    """Across all CPUs, since the previous read."""
    network: str
    """`↓1.2 MB/s ↑0.3 MB/s`, with `errors +N` when interfaces counted errors or drops."""


class NetCounters(Protocol):
    """The fields of `psutil.net_io_counters()` that the status reads."""

    @property
    def bytes_sent(self) -> int: ...
    @property
    def bytes_recv(self) -> int: ...
    @property
    def errin(self) -> int: ...
    @property
    def errout(self) -> int: ...
    @property
    def dropin(self) -> int: ...
    @property
    def dropout(self) -> int: ...


class HostWatch:
    """Reads the host; the first `read` already covers the time since construction."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        psutil.cpu_percent(interval=None)  # primes the counter: the next call is a delta
        self._net: NetCounters | None = psutil.net_io_counters()
        self._since = clock()

    def read(self) -> HostStats:
        now, net = self._clock(), psutil.net_io_counters()
        previous, elapsed = self._net, now - self._since
        self._net, self._since = net, now
        return HostStats(
            memory_pct=float(psutil.virtual_memory().percent),
            cpu_pct=float(psutil.cpu_percent(interval=None)),
            network=network_status(previous, net, elapsed),
        )


def network_status(before: NetCounters | None, after: NetCounters | None, seconds: float) -> str:
    """`↓1.2 MB/s ↑0.3 MB/s` over `seconds`, `· errors +3` if errors or drops grew."""
    if before is None or after is None:
        return "no network interfaces"
    span = max(seconds, 1e-3)
    text = (
        f"↓{_rate((after.bytes_recv - before.bytes_recv) / span)} "
        f"↑{_rate((after.bytes_sent - before.bytes_sent) / span)}"
    )
    grew = sum(
        max(getattr(after, name) - getattr(before, name), 0)
        for name in ("errin", "errout", "dropin", "dropout")
    )
    if grew:
        text += f" · errors +{grew}"
    return text[:NETWORK_CHARS]


def _rate(per_second: float) -> str:
    value = max(per_second, 0.0)  # a counter reset (interface gone) is not negative traffic
    for unit in ("B/s", "kB/s", "MB/s"):
        if value < 1000:
            return f"{value:.0f} {unit}" if unit == "B/s" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB/s"
