"""Is this request from Discord? Ed25519 over timestamp + raw body, a fresh timestamp, once.

Discord signs `X-Signature-Timestamp + body` with the application's key and sends the
signature hex in `X-Signature-Ed25519`; it also sends deliberately bad signatures to
check that an endpoint refuses them (and removes an endpoint that accepts them). The
signature alone does not stop a captured request being sent again, so the timestamp
must be within `MAX_SKEW_S` of now and each interaction id is taken in once
(`claim_interaction`).
"""

import time
from dataclasses import dataclass
from typing import Final

import redis.asyncio as aioredis
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from ground import keyspace

SIGNATURE: Final = "X-Signature-Ed25519"
TIMESTAMP: Final = "X-Signature-Timestamp"
MAX_SKEW_S: Final = 300.0


class Refused(Exception):
    """The request is not (or no longer) Discord's: answered 401 with `reason`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Verifier:
    """Checks signatures with one application's public key (32 raw bytes)."""

    key: VerifyKey

    @classmethod
    def from_bytes(cls, public_key: bytes) -> "Verifier":
        return cls(VerifyKey(public_key))

    def __repr__(self) -> str:
        return "Verifier(key=***)"

    def check(
        self, signature: str | None, timestamp: str | None, body: bytes, now: float | None = None
    ) -> None:
        """Return if the request is signed and fresh; raise `Refused` saying why not."""
        if not signature or not timestamp:
            raise Refused("missing signature headers")
        try:
            raw = bytes.fromhex(signature)
        except ValueError:
            raise Refused("signature is not hex") from None
        if len(raw) != 64:
            raise Refused("signature is not 64 bytes")
        try:
            self.key.verify(timestamp.encode() + body, raw)
        except BadSignatureError:
            raise Refused("bad signature") from None
        try:
            sent = float(timestamp)
        except ValueError:
            raise Refused("timestamp is not a number") from None
        if abs((time.time() if now is None else now) - sent) > MAX_SKEW_S:
            raise Refused("timestamp more than 5 minutes off")


async def claim_interaction(client: "aioredis.Redis", interaction_id: str) -> bool:
    """True the first time an interaction id is seen; False for a replay.

    Raises `redis.RedisError` when Redis cannot be reached (the caller answers with an
    ephemeral error rather than a 500)."""
    fresh = await client.set(
        keyspace.bot_seen(interaction_id), b"1", nx=True, ex=keyspace.BOT_SEEN_TTL_S
    )
    return bool(fresh)
