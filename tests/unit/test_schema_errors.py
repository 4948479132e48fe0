"""Bad bytes and bad fields fail at decode with an InvalidEvent naming the path."""

import random
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import msgspec
import pytest

from ground.errors import InvalidEvent
from schemas import (
    KINDS,
    Envelope,
    Lane,
    ServiceDown,
    Severity,
    Side,
    SignalGenerated,
    TradeExecuted,
    decode,
    encode,
    event_id_millis,
    from_json,
    is_event_id,
    kind_of,
    new_event_id,
    validate,
    wrap,
)

TRADE = {
    "kind": "trade_executed",
    "pair": "XRP/USD",
    "side": "BUY",
    "amount": "1500.0000",
    "price": "0.523456",
    "pnl": "12.50",
    "latency_ms": 1.2,
    "strategy": "momentum",
}


def envelope_bytes(event: dict, **overrides: object) -> bytes:
    env = {
        "id": new_event_id(),
        "created_at": datetime.now(UTC),
        "source": "test",
        "severity": "info",
        "event": event,
        **overrides,
    }
    return msgspec.msgpack.encode(env)


def error_of(data: bytes) -> str:
    with pytest.raises(InvalidEvent) as info:
        decode(data)
    return str(info.value)


def test_valid_bytes_decode_with_exact_decimals():
    env = decode(envelope_bytes(TRADE))
    assert isinstance(env.event, TradeExecuted)
    assert env.event.amount == Decimal("1500.0000")
    assert str(env.event.price) == "0.523456"  # precision preserved, not a float
    assert env.event.side is Side.BUY


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("side", "LONG", "Invalid enum value 'LONG' - at `$.event.side`"),
        ("latency_ms", "fast", "Expected `float`, got `str` - at `$.event.latency_ms`"),
        ("latency_ms", -1.0, "Expected `float` >= 0.0 - at `$.event.latency_ms`"),
        ("pair", "XRPUSD", "at `$.event.pair`"),
        ("strategy", "", "Expected `str` of length >= 1 - at `$.event.strategy`"),
        ("amount", "-5", "`amount` must be > 0"),
        ("amount", "NaN", "`amount` must be a finite decimal"),
        ("pnl", "1E+999999", "`pnl` is out of range"),
    ],
)
def test_bad_fields_name_their_path(field, value, expected):
    assert expected in error_of(envelope_bytes({**TRADE, field: value}))


def test_unknown_kind_missing_field_and_unknown_field():
    assert "Invalid value 'trade_exploded' - at `$.event.kind`" in error_of(
        envelope_bytes({**TRADE, "kind": "trade_exploded"})
    )
    missing = {k: v for k, v in TRADE.items() if k != "price"}
    assert "missing required field `price` - at `$.event`" in error_of(envelope_bytes(missing))
    assert "unknown field `colour`" in error_of(envelope_bytes({**TRADE, "colour": 1}))


def test_envelope_fields_are_checked():
    assert "at `$.id`" in error_of(envelope_bytes(TRADE, id="not-a-uuid"))
    assert "at `$.severity`" in error_of(envelope_bytes(TRADE, severity="panic"))
    assert "at `$.v`" in error_of(envelope_bytes(TRADE, v=2))
    naive = msgspec.msgpack.encode(
        {
            "id": new_event_id(),
            "created_at": "2026-01-01T00:00:00",
            "source": "t",
            "severity": "info",
            "event": TRADE,
        }
    )
    assert "at `$.created_at`" in error_of(naive)


def test_truncated_and_random_bytes_fail_cleanly():
    good = envelope_bytes(TRADE)
    for cut in (1, len(good) // 2, len(good) - 1):
        assert "invalid" in error_of(good[:cut]) or "undecodable" in error_of(good[:cut])
    rng = random.Random(7)
    for _ in range(20_000):
        blob = rng.randbytes(rng.randrange(0, 300))
        with pytest.raises(InvalidEvent):
            decode(blob)
    with pytest.raises(InvalidEvent, match="undecodable event JSON"):
        from_json(b"{not json")


def test_constraints_hold_at_construction_via_validate():
    bad = SignalGenerated(
        pair="XRP/USD",
        signal="breakout",
        confidence=1.5,
        action="BUY",  # type: ignore[arg-type]
        target_price=Decimal("0.6"),
        stop_loss=Decimal("0.5"),
        risk_reward=2.0,
        strategy="s",
    )
    with pytest.raises(InvalidEvent, match=r"<= 1.0 - at `\$.confidence`"):
        validate(bad)
    with pytest.raises(ValueError, match="`price` must be > 0"):
        TradeExecuted(
            pair="XRP/USD",
            side=Side.SELL,
            amount=Decimal(1),
            price=Decimal(0),
            pnl=Decimal(0),
            latency_ms=1,
            strategy="s",
        )


def test_event_ids_are_uuid7_unique_and_time_ordered():
    ids = [new_event_id() for _ in range(10_000)]
    assert len(set(ids)) == len(ids)
    assert all(is_event_id(i) for i in ids[:100])
    now_ms = time.time_ns() // 1_000_000
    assert abs(event_id_millis(ids[-1]) - now_ms) < 5_000
    later = new_event_id(time.time_ns() + 10_000_000)
    assert later > max(ids)


def test_wrap_defaults_and_lanes():
    down = ServiceDown(service="api", server="s1", duration=timedelta(seconds=5), impact="x")
    env = wrap(down, source="monitor", now_ns=time.time_ns())
    assert env.severity is Severity.CRITICAL
    assert env.lane is Lane.CRITICAL
    assert env.kind == "service_down"
    assert decode(encode(env)) == env
    assert isinstance(env, Envelope)


def test_channels_override_is_checked_at_wrap_and_at_decode():
    down = ServiceDown(service="api", server="s1", duration=timedelta(seconds=5), impact="x")
    env = wrap(down, source="monitor", now_ns=time.time_ns(), channels=["system-status"])
    assert env.channels == ("system-status",)
    assert decode(encode(env)) == env
    assert wrap(down, source="m", now_ns=time.time_ns()).channels is None
    for bad, message in [
        (["nope"], "unknown channel 'nope'; channels are system-status, trading-alerts"),
        ([], "at least one channel"),
        ("system-status", "got the string 'system-status'"),
        (["maintenance", "maintenance"], "channel 'maintenance' given twice"),
    ]:
        with pytest.raises(InvalidEvent, match=message):
            wrap(down, source="m", now_ns=time.time_ns(), channels=bad)
    assert "Invalid enum value 'nope' - at `$.channels[1]`" in error_of(
        envelope_bytes(TRADE, channels=["system-status", "nope"])
    )
    assert "at `$.channels`" in error_of(envelope_bytes(TRADE, channels=[]))
    assert decode(envelope_bytes(TRADE, channels=None)).channels is None


def test_kind_names_are_the_snake_case_class_names():
    assert kind_of("TradeExecuted") == "trade_executed"
    assert len(KINDS) == 23
    for kind, cls in KINDS.items():
        assert cls.kind() == kind
        assert cls.__struct_config__.frozen
        assert cls.__struct_config__.forbid_unknown_fields


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("pair", "XRP/USD\n", "at `$.event.pair`"),  # `$` would have matched before the \n
        ("strategy", "   ", "at `$.event.strategy`"),  # blank: Discord rejects blank values
        ("amount", "1E-19", "`amount` has more than 18 decimal places"),
        ("executed_at", "2026-11-28T10:00:00", "at `$.event.executed_at`"),  # naive time
    ],
)
def test_contract_edges(field, value, expected):
    assert expected in error_of(envelope_bytes({**TRADE, field: value}))


def test_durations_and_lists_are_bounded():
    build = {
        "kind": "build_success",
        "repository": "org/repo",
        "commit": "abc1234",
        "duration": "-PT5S",
    }
    assert "`duration` must be between 0 and 366 days" in error_of(envelope_bytes(build))
    many = {**build, "duration": "PT5S", "artifacts": [f"https://x/{i}" for i in range(26)]}
    assert "at `$.event.artifacts`" in error_of(envelope_bytes(many))
    assert "at `$.id`" in error_of(envelope_bytes(TRADE, id=new_event_id() + "\n"))


def test_plain_numbers_for_decimal_fields_are_checked_once_decoded() -> None:
    """msgspec does not type-check the constructor: an int passes through untouched and
    becomes a Decimal (and is checked) at decode, as it did before the checks were cached."""
    from schemas import Side, TradeExecuted, wrap
    from schemas.codec import decode, encode

    event = TradeExecuted(
        pair="XRP/USD", side=Side.BUY, amount=1500, price="0.52", pnl=-3,  # type: ignore[arg-type]
        latency_ms=1.0, strategy="s",
    )  # fmt: skip
    decoded = decode(encode(wrap(event, source="t", now_ns=time.time_ns()))).event
    assert isinstance(decoded, TradeExecuted)
    assert decoded.amount == Decimal(1500)
    bad = TradeExecuted(
        pair="XRP/USD", side=Side.BUY, amount=-1, price="0.52", pnl=0,  # type: ignore[arg-type]
        latency_ms=1.0, strategy="s",
    )  # fmt: skip
    with pytest.raises(InvalidEvent, match="`amount` must be > 0"):
        decode(encode(wrap(bad, source="t", now_ns=time.time_ns())))
