"""The envelope: what every event carries besides its own fields.

Keeping metadata out of the kinds keeps each kind a pure domain record, and lets the
producer fill id, time and source once instead of every call site.
"""

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Final, Literal

import msgspec
from msgspec import Meta

from ground.channels import CHANNELS
from ground.errors import InvalidEvent
from schemas.attachments import Attachment, Attachments, check_attachments
from schemas.base import Lane, Severity
from schemas.catalog import AnyEvent
from schemas.ids import EVENT_ID_PATTERN, new_event_id
from schemas.types import Name, UtcDatetime

SCHEMA_VERSION: Final = 1

EventId = Annotated[str, Meta(pattern=EVENT_ID_PATTERN)]
DedupKey = Annotated[str, Meta(min_length=1, max_length=200)]

if TYPE_CHECKING:
    ChannelName = str
else:  # built from ground's list, so a new channel needs no change here
    ChannelName = Literal[CHANNELS]
"""One of `ground.channels.CHANNELS`. A Literal to msgspec, so an unknown channel fails at
decode (in C, naming it: `Invalid enum value 'x' - at `$.channels[0]``); `str` to mypy,
since names arrive as plain strings (the CLI, herald.toml)."""
Channels = Annotated[tuple[ChannelName, ...], Meta(min_length=1, max_length=len(CHANNELS))]


class Envelope(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id: EventId
    """UUIDv7: unique, sorts by creation time; printed in every Discord footer."""
    created_at: UtcDatetime
    source: Name
    """The component that published it: `trade-server`, `ci`, `health-monitor`."""
    severity: Severity
    event: AnyEvent
    dedup_key: DedupKey | None = None
    """Overrides the dispatcher's per-kind dedupe key when set."""
    channels: Channels | None = None
    """Overrides the configured route of the kind when set: the monitor reports a dead
    #critical-alerts webhook through #system-status."""
    v: Literal[1] = SCHEMA_VERSION
    attachments: Attachments = ()
    """Files sent with the event's message; the first image shows in its embed."""

    @property
    def kind(self) -> str:
        return self.event.kind()

    @property
    def lane(self) -> Lane:
        return self.event.lane(self.severity)


def wrap(
    event: AnyEvent,
    *,
    source: str,
    severity: Severity | None = None,
    dedup_key: str | None = None,
    channels: Iterable[str] | None = None,
    now_ns: int,
    event_id: str | None = None,
    attachments: Iterable[Attachment] = (),
) -> Envelope:
    """Give an event its id and metadata; `now_ns` is `time.time_ns()` at publish.

    An unknown or repeated channel, or a file beyond Discord's limits, is an
    `InvalidEvent` (see `check_channels`, `schemas.attachments.check_attachments`)."""
    return Envelope(
        id=event_id or new_event_id(now_ns),
        created_at=datetime.fromtimestamp(now_ns / 1e9, UTC),
        source=source,
        severity=severity or event.default_severity,
        event=event,
        dedup_key=dedup_key,
        channels=None if channels is None else check_channels(channels),
        attachments=check_attachments(attachments) if attachments else (),
    )


def check_channels(channels: Iterable[str]) -> tuple[str, ...]:
    """The override as a tuple: at least one channel, each of `CHANNELS`, none twice.

    `InvalidEvent` otherwise, naming the culprit. For call sites; decode checks the same
    with the `Channels` type (except repeats, which only deliver twice)."""
    if isinstance(channels, str):  # a bare "system-status" would iterate its letters
        raise InvalidEvent(
            f"channels must be a tuple of channel names, got the string {channels!r}"
        )
    names = tuple(channels)
    if not names:
        raise InvalidEvent("channels must name at least one channel (None: the kind's route)")
    for name in names:
        if name not in CHANNELS:
            raise InvalidEvent(f"unknown channel {name!r}; channels are {', '.join(CHANNELS)}")
    if len(set(names)) != len(names):
        twice = next(n for n in names if names.count(n) > 1)
        raise InvalidEvent(f"channel {twice!r} given twice")
    return names
