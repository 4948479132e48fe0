"""digest_embeds(): a flood of market data as a few summary embeds that Discord accepts."""

import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

from schemas import KINDS, Envelope, PriceAlert, VolumeAlert, new_event_id
from tests.discord_schema import assert_valid_payload
from tests.factories import CREATED_AT, sample, sample_envelope, sample_events
from worker.render import build_payload, digest_embeds, embed_size, pack


def price(pair: str, value: str, change: str, seconds: float, n: int) -> Envelope:
    alert = PriceAlert(
        pair=pair,
        price=Decimal(value),
        previous_price=Decimal("0.5"),
        change_pct=Decimal(change),
        window=timedelta(minutes=5),
    )
    at = CREATED_AT + timedelta(seconds=seconds)
    event_id = new_event_id(int(at.timestamp() * 1e9) + n)
    return sample_envelope(alert, source="market-feed", created_at=at, event_id=event_id)


def volume(pair: str, ratio: float, seconds: float) -> Envelope:
    alert = VolumeAlert(
        pair=pair,
        volume=Decimal(1000),
        average_volume=Decimal(100),
        ratio=ratio,
        window=timedelta(minutes=15),
    )
    return sample_envelope(alert, created_at=CREATED_AT + timedelta(seconds=seconds))


def fields(embed: dict[str, Any]) -> dict[str, str]:
    return {field["name"]: field["value"] for field in embed["fields"]}


def test_no_events_no_embeds() -> None:
    assert digest_embeds([]) == []


def test_one_pair_summarised() -> None:
    envelopes = [
        price("XRP/USD", "0.52", "1.0", 0, 0),
        price("XRP/USD", "0.50", "-4.25", 60, 1),
        price("XRP/USD", "0.56", "3.0", 120, 2),
        price("XRP/USD", "0.55", "0.5", 300, 3),
    ]
    [embed] = digest_embeds(list(reversed(envelopes)))  # input order does not matter
    assert embed["title"] == "📈 Market Digest - Price Alerts"
    assert fields(embed) == {
        "XRP/USD -4.25%": "4 alerts · 04:10:45–04:15:45 UTC\n"
        "$0.520000 → $0.550000 (+5.77%)\n"
        "range $0.500000 – $0.560000"
    }
    assert embed["footer"]["text"] == (
        f"herald digest · 4 events · {envelopes[0].id} … {envelopes[-1].id}"
    )
    assert embed["timestamp"] == envelopes[-1].created_at.isoformat()
    assert embed["description"].startswith("4 price alerts across 1 pair,")
    assert_valid_payload(build_payload([embed]))


def test_volume_alerts_report_the_highest_ratio() -> None:
    embeds = digest_embeds(
        [volume("XRP/USD", 2.5, 0), volume("XRP/USD", 7.25, 30), volume("ETH/USD", 3.0, 10)]
    )
    [embed] = embeds
    assert embed["title"] == "📊 Market Digest - Volume Alerts"
    assert list(fields(embed)) == ["XRP/USD", "ETH/USD"]
    assert fields(embed)["XRP/USD"].startswith("2 alerts · max 7.25× average")


def test_other_kinds_are_counted_by_kind() -> None:
    envelopes = [sample_envelope(event) for event in sample_events()] * 3
    embeds = digest_embeds(envelopes)
    titles = [embed["title"] for embed in embeds]
    assert titles == [
        "📈 Market Digest - Price Alerts",
        "📊 Market Digest - Volume Alerts",
        "🗂️ Event Digest",
    ]
    others = fields(embeds[2])
    assert len(others) == len(KINDS) - 2  # every kind but the two market ones
    assert others["trade_executed"] == "3 events"
    for message in pack(embeds):
        assert_valid_payload(build_payload(message))


def test_ten_thousand_alerts_across_300_pairs_stay_within_limits() -> None:
    envelopes = [
        price(
            f"C{i % 300:03d}/USD",
            f"{1 + (i % 997) / 1000:.3f}",
            f"{((i * 37) % 2001 - 1000) / 100:.2f}",
            i * 0.05,
            i,
        )
        for i in range(10_000)
    ]
    envelopes += [volume(f"C{i:03d}/USD", 1 + i / 10, i) for i in range(300)]
    started = time.perf_counter()
    embeds = digest_embeds(envelopes)
    assert time.perf_counter() - started < 2
    assert len(embeds) == 2
    prices, volumes = embeds
    assert len(prices["fields"]) == 11
    assert prices["fields"][-1]["name"] == "…and 290 more pairs"
    moves = [abs(Decimal(f["name"].split()[-1].rstrip("%"))) for f in prices["fields"][:10]]
    assert moves == sorted(moves, reverse=True)
    assert moves[0] == Decimal("10.00")
    assert volumes["fields"][0]["name"] == "C299/USD"
    assert volumes["fields"][-1]["name"] == "…and 290 more pairs"
    assert "10,300 events" in prices["footer"]["text"]
    for embed in embeds:
        assert embed_size(embed) <= 6000
    messages = pack(embeds)
    for message in messages:
        assert_valid_payload(build_payload(message))


def test_digest_of_one_alert_per_pair_for_many_pairs() -> None:
    envelopes = [price(f"P{i:05d}/USD", "1", "0.1", i, i) for i in range(5000)]
    [embed] = digest_embeds(envelopes)
    assert embed["fields"][-1]["name"] == "…and 4,990 more pairs"
    assert_valid_payload(build_payload([embed]))


def test_extreme_prices_do_not_break_the_digest() -> None:
    tiny = PriceAlert(
        pair="SHIB/USD",
        price=Decimal("1E-18"),
        previous_price=Decimal("1E-18"),
        change_pct=Decimal("-9999999999999999"),
        window=timedelta(0),
    )
    huge = PriceAlert(
        pair="SHIB/USD",
        price=Decimal("9999999999999999.99"),
        previous_price=Decimal(1),
        change_pct=Decimal("9999999999999999"),
        window=timedelta(0),
    )
    embeds = digest_embeds(
        [sample_envelope(tiny), sample_envelope(huge), sample_envelope(sample("trade_executed"))]
    )
    for message in pack(embeds):
        assert_valid_payload(build_payload(message))
