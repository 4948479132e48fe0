"""Prometheus endpoints of real `herald dispatch` / `herald worker` processes."""

from collections import defaultdict
from datetime import timedelta

import httpx
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from ground.proc import free_port, wait_until
from schemas import BuildSuccess
from tests.engine.test_delivery import trade
from worker.metrics import producer_collector

Samples = dict[str, list[tuple[dict[str, str], float]]]


def scrape(port: int) -> tuple[Samples, str]:
    body = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    assert "sandbox-token" not in body
    assert "webhooks/" not in body
    samples: Samples = defaultdict(list)
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            samples[sample.name].append((sample.labels, sample.value))
    return samples, body


def total(samples: Samples, name: str, **labels: str) -> float:
    return sum(
        value
        for got, value in samples.get(name, [])
        if all(got.get(k) == v for k, v in labels.items())
    )


def try_scrape(port: int) -> Samples | None:
    try:
        return scrape(port)[0]
    except httpx.TransportError:
        return None


def test_metrics_agree_with_what_the_sandbox_received(engine):
    dispatch_port = free_port()
    worker_port = free_port()
    engine.start("dispatch-0", "dispatch", "--name", "dispatch-0",
                 "--metrics-port", str(dispatch_port))  # fmt: skip
    engine.start("worker-0", "worker", "-n", "1", "--name", "w0",
                 "--metrics-port", str(worker_port - 2), "--metrics-port-offset", "2")  # fmt: skip
    with engine.publisher() as pub:
        for i in range(12):
            pub.publish(trade(i))
        for i in range(3):
            pub.publish(BuildSuccess(repository="org/repo", commit=f"{i:07x}",
                                     duration=timedelta(seconds=i)))  # fmt: skip
    engine.wait_delivered({"trading-alerts": 12, "system-status": 3}, timeout=60)

    def settled() -> bool:
        samples = try_scrape(worker_port)
        return samples is not None and (
            total(samples, "herald_delivered_events_total") == 15
            and total(samples, "herald_engine_delivered_total") == 15
        )

    wait_until(settled, 20, "the worker's metrics to count 15 deliveries", interval=0.1)
    worker, _ = scrape(worker_port)
    sandbox_messages = engine.sandbox.stats()["messages"]
    assert total(worker, "herald_deliveries_total", result="sent") == sandbox_messages
    for channel in ("trading-alerts", "system-status"):
        sent = total(worker, "herald_deliveries_total", channel=channel, result="sent")
        assert sent == len(engine.sandbox.messages(channel))
        assert total(worker, "herald_requests_total", channel=channel) == sent
    assert total(worker, "herald_delivered_events_total", channel="trading-alerts") == 12
    assert total(worker, "herald_delivery_latency_seconds_count") == 15
    assert 0 < total(worker, "herald_delivery_latency_seconds_sum") < 15 * 60
    assert total(worker, "herald_engine_messages_total") == sandbox_messages
    assert total(worker, "herald_outbox_depth", channel="trading-alerts") == 0
    assert total(worker, "herald_dlq_size") == 0
    assert total(worker, "herald_redis_up") == 1

    wait_until(lambda: try_scrape(dispatch_port) is not None, 10, "the dispatcher's metrics")
    dispatcher, _ = scrape(dispatch_port)
    assert total(dispatcher, "herald_dispatcher_events_total", kind="trade_executed") == 12
    assert total(dispatcher, "herald_dispatcher_events_total", lane="normal") == 15
    assert total(dispatcher, "herald_engine_events_total", kind="build_success") == 3
    assert total(dispatcher, "herald_stream_lag", lane="normal") == 0


def test_rate_limits_and_dead_webhooks_are_counted(engine):
    port = free_port()
    engine.sandbox.delete_webhook("trading-alerts")
    engine.start_dispatcher()
    engine.start("worker-0", "worker", "-n", "1", "--name", "w0", "--metrics-port", str(port))
    with engine.publisher() as pub:
        for i in range(3):
            pub.publish(trade(i))

    def counted() -> bool:
        samples = try_scrape(port)
        return samples is not None and total(samples, "herald_dlq_size") == 3

    wait_until(counted, 30, "3 dead letters in the metrics", interval=0.1)
    samples, _ = scrape(port)
    assert total(samples, "herald_deliveries_total", channel="trading-alerts", result="gone") == 1
    assert total(samples, "herald_dead_lettered_total", channel="trading-alerts") == 3
    assert total(samples, "herald_webhook_dead", channel="trading-alerts") == 1


def test_producer_collector_exposes_an_embedded_publishers_counters(engine):
    registry = CollectorRegistry()
    with engine.publisher() as pub:
        registry.register(producer_collector(pub))
        for i in range(4):
            pub.publish(trade(i))
        assert pub.flush(10)
        text = generate_latest(registry).decode()
    samples: Samples = defaultdict(list)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[sample.name].append((sample.labels, sample.value))
    assert total(samples, "herald_producer_published_total", source="test") == 4
    assert total(samples, "herald_producer_flushed_total", source="test") == 4
    assert total(samples, "herald_producer_dropped_total") == 0
