"""Which events are recoveries, which fold windows they close, and where kinds go."""

import msgspec
import pytest

import schemas
from ground import keyspace
from ground.channels import CHANNELS, CRITICAL_ALERTS
from schemas import ConnectionStatus
from tests.factories import sample, sample_envelope
from worker.channels import DEFAULT_DEDUP_FIELDS, DEFAULT_ROUTES
from worker.dedupe import CLOSE_ALL, is_recovery, plan


@pytest.mark.parametrize(
    ("event", "recovery"),
    [
        (sample("service_recovered"), True),
        (sample("system_healthy"), True),
        (sample("service_restart"), True),  # status "active"
        (msgspec.structs.replace(sample("service_restart"), status="failed"), False),
        (
            msgspec.structs.replace(sample("connection_lost"), status=ConnectionStatus.RECONNECTED),
            True,
        ),
        (sample("connection_lost"), False),  # reconnecting
        (sample("service_down"), False),
        (sample("high_latency"), False),
        (sample("trade_executed"), False),
    ],
    ids=lambda value: getattr(value, "kind", lambda: str(value))(),
)
def test_recoveries(event: schemas.AnyEvent, recovery: bool) -> None:
    assert is_recovery(sample_envelope(event)) is recovery


def test_a_service_recovery_closes_its_down_and_latency_windows_only() -> None:
    recovered = sample_envelope(sample("service_recovered"))  # market-feed on prod-02
    fold, closes = plan(recovered, DEFAULT_DEDUP_FIELDS)
    assert fold == ""  # a recovery never folds: each one is sent
    assert sorted(closes) == sorted(
        [
            keyspace.fold("service_down", "market-feed|prod-02"),
            keyspace.fold("high_latency", "market-feed"),
        ]
    )


def test_the_recovery_closes_the_window_its_own_page_opened() -> None:
    down = sample_envelope(sample("service_down"))  # the same service and server
    fold, closes = plan(down, DEFAULT_DEDUP_FIELDS)
    assert closes == []
    assert fold in plan(sample_envelope(sample("service_recovered")), DEFAULT_DEDUP_FIELDS)[1]


def test_system_healthy_still_closes_everything() -> None:
    assert plan(sample_envelope(sample("system_healthy")), DEFAULT_DEDUP_FIELDS) == (
        "",
        [CLOSE_ALL],
    )


def test_every_kind_has_a_default_route_to_known_channels() -> None:
    assert set(DEFAULT_ROUTES) == set(schemas.KINDS)
    assert all(targets and set(targets) <= set(CHANNELS) for targets in DEFAULT_ROUTES.values())
    assert DEFAULT_ROUTES["service_recovered"] == DEFAULT_ROUTES["service_down"]
    assert DEFAULT_ROUTES["service_recovered"] == (CRITICAL_ALERTS,)
