"""Which alerts fold together, and which events close a fold window (recoveries).

Alertmanager's model: the first alert of a key pages at once; repeats within the window
are counted, not sent; the next one sent after the window says how many were folded.
A recovery closes the windows of the alerts it answers, so a new failure pages at once.
"""

from collections.abc import Mapping

from schemas.cicd import ServiceRestart
from schemas.envelope import Envelope
from schemas.health import ConnectionLost, SystemHealthy
from schemas.types import ConnectionStatus
from worker import keys

CLOSE_ALL = "*"


def fold_key(envelope: Envelope, fields: Mapping[str, tuple[str, ...]]) -> str | None:
    """The fold key for an alert kind, or None when the event is not folded."""
    if is_recovery(envelope):
        return None
    kind = envelope.kind
    if envelope.dedup_key is not None:
        return keys.fold(kind, envelope.dedup_key)
    names = fields.get(kind)
    if not names:
        return None
    return keys.fold(kind, "|".join(str(getattr(envelope.event, n)) for n in names))


def is_recovery(envelope: Envelope) -> bool:
    event = envelope.event
    if isinstance(event, SystemHealthy):
        return True
    if isinstance(event, ServiceRestart):
        return event.status.strip().lower() == "active"
    if isinstance(event, ConnectionLost):
        return event.status is ConnectionStatus.RECONNECTED
    return False


def closes(envelope: Envelope, fields: Mapping[str, tuple[str, ...]]) -> list[str]:
    """Fold keys a recovery closes: every alert kind whose key fields it carries."""
    if not is_recovery(envelope):
        return []
    if isinstance(envelope.event, SystemHealthy):
        return [CLOSE_ALL]
    event = envelope.event
    have = set(type(event).__struct_fields__)
    return [
        keys.fold(kind, "|".join(str(getattr(event, n)) for n in names))
        for kind, names in fields.items()
        if names and set(names) <= have
    ]
