"""Ed25519 verification with real keys: Discord's signatures pass, everything else is refused."""

import time

import pytest
from nacl.signing import SigningKey

from bot.verify import MAX_SKEW_S, Refused, Verifier

BODY = b'{"id":"1","type":1}'


@pytest.fixture
def key() -> SigningKey:
    return SigningKey.generate()


def sign(key: SigningKey, stamp: str, body: bytes) -> str:
    return key.sign(stamp.encode() + body).signature.hex()


def test_a_signed_fresh_request_passes(key: SigningKey) -> None:
    stamp = str(int(time.time()))
    Verifier.from_bytes(key.verify_key.encode()).check(sign(key, stamp, BODY), stamp, BODY)


@pytest.mark.parametrize(
    ("signature", "stamp", "reason"),
    [
        (None, "1", "missing"),
        ("", "1", "missing"),
        ("zz" * 64, None, "missing"),
        ("not hex", "1", "not hex"),
        ("ab" * 10, "1", "64 bytes"),
    ],
)
def test_malformed_headers_are_refused(
    key: SigningKey, signature: str | None, stamp: str | None, reason: str
) -> None:
    with pytest.raises(Refused, match=reason):
        Verifier.from_bytes(key.verify_key.encode()).check(signature, stamp, BODY)


def test_a_body_edited_after_signing_is_refused(key: SigningKey) -> None:
    stamp = str(int(time.time()))
    signature = sign(key, stamp, BODY)
    with pytest.raises(Refused, match="bad signature"):
        Verifier.from_bytes(key.verify_key.encode()).check(signature, stamp, BODY + b" ")


def test_a_signature_by_another_key_is_refused(key: SigningKey) -> None:
    stamp = str(int(time.time()))
    other = SigningKey.generate()
    with pytest.raises(Refused, match="bad signature"):
        Verifier.from_bytes(key.verify_key.encode()).check(sign(other, stamp, BODY), stamp, BODY)


def test_the_timestamp_is_part_of_what_is_signed(key: SigningKey) -> None:
    stamp = str(int(time.time()))
    signature = sign(key, stamp, BODY)
    with pytest.raises(Refused, match="bad signature"):
        Verifier.from_bytes(key.verify_key.encode()).check(signature, str(int(stamp) + 1), BODY)


@pytest.mark.parametrize("offset", [-MAX_SKEW_S - 5, MAX_SKEW_S + 5])
def test_a_stale_or_future_timestamp_is_refused_even_when_signed(
    key: SigningKey, offset: float
) -> None:
    now = time.time()
    stamp = str(int(now + offset))
    with pytest.raises(Refused, match="5 minutes"):
        Verifier.from_bytes(key.verify_key.encode()).check(sign(key, stamp, BODY), stamp, BODY, now)


def test_a_timestamp_just_inside_the_window_passes(key: SigningKey) -> None:
    now = time.time()
    stamp = str(int(now - MAX_SKEW_S + 5))
    Verifier.from_bytes(key.verify_key.encode()).check(sign(key, stamp, BODY), stamp, BODY, now)


def test_the_key_never_shows_in_a_repr(key: SigningKey) -> None:
    verifier = Verifier.from_bytes(key.verify_key.encode())
    assert key.verify_key.encode().hex() not in repr(verifier)
