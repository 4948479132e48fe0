"""Wire encoding: msgpack for the streams, JSON for people (CLI, DLQ export).

Encoders and decoders are built once and reused; that is most of msgspec's speed.
"""

from typing import Any

import msgspec

from ground.errors import InvalidEvent
from schemas.envelope import Envelope

_msgpack_encoder = msgspec.msgpack.Encoder()
_msgpack_decoder = msgspec.msgpack.Decoder(Envelope)
_json_encoder = msgspec.json.Encoder()
_json_decoder = msgspec.json.Decoder(Envelope)

encode = _msgpack_encoder.encode
"""Envelope -> msgpack bytes (the stream format)."""


def decode(data: bytes) -> Envelope:
    """Msgpack bytes -> Envelope, or `InvalidEvent` whose message names the bad path."""
    try:
        return _msgpack_decoder.decode(data)
    except msgspec.ValidationError as exc:
        raise InvalidEvent(f"invalid event: {exc}") from None
    except (msgspec.DecodeError, ValueError) as exc:  # ValueError: bad UTF-8 inside a str
        raise InvalidEvent(f"undecodable event bytes ({len(data)} bytes): {exc}") from None


def to_json(envelope: Envelope) -> bytes:
    return _json_encoder.encode(envelope)


def from_json(data: bytes | str) -> Envelope:
    try:
        return _json_decoder.decode(data)
    except msgspec.ValidationError as exc:
        raise InvalidEvent(f"invalid event: {exc}") from None
    except (msgspec.DecodeError, ValueError) as exc:
        raise InvalidEvent(f"undecodable event JSON: {exc}") from None


def to_builtins(envelope: Envelope) -> Any:
    """Plain dict/list/str form, for display and JSON Lines export."""
    return msgspec.to_builtins(envelope)
