"""Alert mutes: the record the bot writes (`/alerts off`) and the rule that reads it.

A mute silences a channel, an event kind, or everything, until its expiry; every mute
has one, so nobody forgets to turn alerts back on. They live in one Redis hash
(`keyspace.MUTES`: target -> JSON `Mute`). This module is pure (no Redis calls) so the
engine, below the bot, can decode the hash it read and ask `is_muted` per event; a
muted event is still accounted for, as the engine decides.
"""

from collections.abc import Iterable, Mapping
from typing import Any, Final

import msgspec

ALL: Final = "all"
CHANNEL: Final = "channel:"
KIND: Final = "kind:"


class Mute(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    target: str
    """`all`, `channel:<name>` or `kind:<event kind>`."""
    until: float
    """Epoch seconds when it ends by itself."""
    by: str
    """The Discord user id who muted it."""
    at: float
    """Epoch seconds when it was set."""
    reason: str = ""

    def active(self, now: float) -> bool:
        return now < self.until


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Mute)


def encode(mute: Mute) -> bytes:
    return _encoder.encode(mute)


def decode_all(raw: Mapping[Any, Any], now: float) -> list[Mute]:
    """The active mutes of the hash as read (HGETALL: bytes or str values); expired and
    unreadable ones are skipped (a bad record must not stop delivery)."""
    found = []
    for value in raw.values():
        try:
            mute = _decoder.decode(value)
        except msgspec.DecodeError:
            continue
        if mute.active(now):
            found.append(mute)
    return sorted(found, key=lambda m: m.until)


def channel_target(channel: str) -> str:
    return CHANNEL + channel


def kind_target(kind: str) -> str:
    return KIND + kind


def shown(target: str) -> str:
    """A target as a person reads it: `all alerts`, `#market-data`, `` `price_alert` ``."""
    if target == ALL:
        return "all alerts"
    if target.startswith(CHANNEL):
        return "#" + target.removeprefix(CHANNEL)
    return "`" + target.removeprefix(KIND) + "`"


def is_muted(mutes: Iterable[Mute], channels: Iterable[str], kind: str, now: float) -> Mute | None:
    """The mute that silences an event of `kind` routed to `channels`, if any is active.

    An event routed to several channels is muted only when every one of them is (a mute
    of #trading-alerts must not silence the copy of an event sent to #critical-alerts)."""
    active = [m for m in mutes if m.active(now)]
    for mute in active:
        if mute.target in (ALL, kind_target(kind)):
            return mute
    by_channel = {m.target: m for m in active if m.target.startswith(CHANNEL)}
    found = [by_channel.get(channel_target(c)) for c in channels]
    if found and all(found):
        return found[0]
    return None
