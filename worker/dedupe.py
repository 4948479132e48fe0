"""Which alerts fold together, and which events close a fold window (recoveries).

Alertmanager's model: the first alert of a key pages at once; repeats within the window
are counted, not sent; the next one sent after the window says how many were folded.
A recovery closes the windows of the alerts it answers, so a new failure pages at once:
`system_healthy` all of them; `service_recovered` and an `active` `service_restart` those
of their service (service_down, high_latency); a `reconnected` `connection_lost` its
exchange's.
"""

from collections.abc import Mapping
from typing import Final, cast

from ground import keyspace
from schemas.cicd import ServiceRestart
from schemas.envelope import Envelope
from schemas.health import ConnectionLost, ServiceRecovered, SystemHealthy
from schemas.types import ConnectionStatus

CLOSE_ALL = "*"
_ALWAYS_RECOVERIES: Final = frozenset({SystemHealthy, ServiceRecovered})


def plan(envelope: Envelope, fields: Mapping[str, tuple[str, ...]]) -> tuple[str, list[str]]:
    """(fold key or "", fold keys it closes) for one event: what the commit script needs.

    An alert kind folds under its key; a recovery folds nothing and closes the windows of
    every alert kind whose key fields it carries (`system_healthy` closes them all)."""
    event = envelope.event
    if not is_recovery(envelope):
        return fold_key(envelope, fields) or "", []
    if isinstance(event, SystemHealthy):
        return "", [CLOSE_ALL]
    have = type(event).__struct_fields__
    return "", [
        keyspace.fold(kind, "|".join(str(getattr(event, n)) for n in names))
        for kind, names in fields.items()
        if names and all(n in have for n in names)
    ]


def fold_key(envelope: Envelope, fields: Mapping[str, tuple[str, ...]]) -> str | None:
    """The fold key for an alert kind (None when it does not fold); not for recoveries."""
    kind = envelope.kind
    if envelope.dedup_key is not None:
        return keyspace.fold(kind, envelope.dedup_key)
    names = fields.get(kind)
    if not names:
        return None
    return keyspace.fold(kind, "|".join(str(getattr(envelope.event, n)) for n in names))


def is_recovery(envelope: Envelope) -> bool:
    """Runs for every event the dispatcher hands on, so it compares classes (kinds are
    exact classes: the wire tag names one) instead of chaining isinstance (273 -> 60 ns)."""
    event = envelope.event
    cls = type(event)
    if cls in _ALWAYS_RECOVERIES:
        return True
    if cls is ServiceRestart:
        return cast(ServiceRestart, event).status.strip().lower() == "active"
    if cls is ConnectionLost:
        return cast(ConnectionLost, event).status is ConnectionStatus.RECONNECTED
    return False
