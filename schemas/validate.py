"""Full validation of events built in code, where msgspec checks only types' shape.

msgspec enforces `Meta` constraints on decode, not on construction, so a producer that
builds `SignalGenerated(confidence=5.0)` would only learn at the dispatcher (which
dead-letters it). Call sites that want to know at once use `validate` or `build`.
"""

from typing import Any, TypeVar

import msgspec

from ground.errors import InvalidEvent
from schemas.base import Event

E = TypeVar("E", bound=Event)


def build(cls: type[E], fields: dict[str, Any], *, strict: bool = True) -> E:
    """Build and fully validate an event from plain values (`strict=False` parses strings)."""
    try:
        return msgspec.convert({"kind": cls.kind(), **fields}, cls, strict=strict)
    except msgspec.ValidationError as exc:
        raise InvalidEvent(f"invalid {cls.kind()}: {exc}") from None


def validate(event: E) -> E:
    """Check every constraint of an already-built event; returns it or raises InvalidEvent."""
    return build(type(event), msgspec.to_builtins(event))
