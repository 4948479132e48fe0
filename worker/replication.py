"""Which Redis primary this process talks to, and how far behind its replicas are.

For `herald status` and the metrics: after a failover an operator wants to see that
Herald follows the new primary and that a replica has caught up again (until it has,
another failover could lose writes). Read from `ROLE` and `INFO replication` of the
primary; the address comes from the client's pool (Sentinel's answer, or the URL's host).
"""

from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import redis
from prometheus_client.core import GaugeMetricFamily

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric


@dataclass(frozen=True)
class Replica:
    address: str
    state: str
    """`online` once synced; `wait_bgsave`/`send_bulk` while a full sync runs."""
    lag_bytes: int
    """Replication stream the primary sent that this replica has not acknowledged."""
    lag_s: int
    """Seconds since the replica's last acknowledgement (Redis reports whole seconds)."""


@dataclass(frozen=True)
class ReplicationStatus:
    primary: str
    """host:port of the server this client writes to."""
    role: str
    """What that server says it is: `master`, or `slave` for a misconfigured URL."""
    replicas: tuple[Replica, ...] = field(default=())

    @property
    def max_lag_bytes(self) -> int:
        return max((r.lag_bytes for r in self.replicas), default=0)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"max_lag_bytes": self.max_lag_bytes}


def line(status: ReplicationStatus) -> str:
    """One line for `herald status`: the primary, then each replica and its lag."""
    if status.role != "master":
        return f"redis {status.primary} answers as {status.role}: not a primary (check the URL)"
    if not status.replicas:
        return f"primary {status.primary} · no replica (a failover now has nowhere to go)"
    replicas = ", ".join(
        f"{r.address} {r.state}, lag {r.lag_bytes:,} B / {r.lag_s} s" for r in status.replicas
    )
    return f"primary {status.primary} · replica {replicas}"


def read(client: redis.Redis) -> ReplicationStatus:
    """One `INFO replication` (and, over Sentinel, the address it gave); redis errors
    propagate (status shows Redis as down)."""
    info: Mapping[str, Any] = client.info("replication")
    offset = int(info.get("master_repl_offset", 0))
    replicas = tuple(
        _replica(info[f"slave{n}"], offset) for n in range(int(info.get("connected_slaves", 0)))
    )
    return ReplicationStatus(_primary(client), str(info.get("role", "?")), replicas)


def _replica(raw: Mapping[str, Any], primary_offset: int) -> Replica:
    return Replica(
        address=f"{raw.get('ip', '?')}:{raw.get('port', '?')}",
        state=str(raw.get("state", "?")),
        lag_bytes=max(0, primary_offset - int(raw.get("offset", 0))),
        lag_s=int(raw.get("lag", 0)),
    )


def _primary(client: redis.Redis) -> str:
    pool = client.connection_pool
    address = getattr(pool, "master_address", None)  # SentinelConnectionPool: last answer
    if address is None and hasattr(pool, "get_master_address"):
        address = pool.get_master_address()
    if address is None:
        kwargs = pool.connection_kwargs
        address = (kwargs.get("host", kwargs.get("path", "?")), kwargs.get("port", ""))
    host, port = address
    return f"{host}:{port}" if port != "" else str(host)


def metrics(status: ReplicationStatus) -> Iterator["Metric"]:
    """Gauges for the engine collector: replicas attached and each one's lag."""
    attached = GaugeMetricFamily(
        "herald_redis_replicas",
        "Replicas attached to the Redis primary Herald writes to",
        labels=["primary"],
    )
    attached.add_metric([status.primary], len(status.replicas))
    lag_bytes = GaugeMetricFamily(
        "herald_redis_replica_lag_bytes",
        "Replication stream the replica has not acknowledged (bytes)",
        labels=["replica"],
    )
    lag_s = GaugeMetricFamily(
        "herald_redis_replica_lag_seconds",
        "Seconds since the replica last acknowledged the primary",
        labels=["replica"],
    )
    for replica in status.replicas:
        lag_bytes.add_metric([replica.address], replica.lag_bytes)
        lag_s.add_metric([replica.address], replica.lag_s)
    yield from (attached, lag_bytes, lag_s)
