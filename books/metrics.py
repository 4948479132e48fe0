"""The books' Prometheus metrics (`herald books --metrics-port`), read from Redis when
scraped: how far the books are behind the streams (the rule of `worker.status_books`),
and what this process counted."""

import logging
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import redis
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from books.service import Books

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric

log = logging.getLogger("herald.books.metrics")


class BooksCollector(Collector):
    def __init__(self, books: Books) -> None:
        self.books = books

    def collect(self) -> Iterator["Metric"]:
        try:
            lag = self.books.lag()
        except redis.RedisError as exc:
            log.warning("metrics: cannot read Redis: %s", exc)
        else:
            yield GaugeMetricFamily(
                "herald_books_lag_seconds",
                "Age of the oldest stream entry the books have not counted yet (0: caught up)",
                lag.seconds(int(time.time() * 1000)),
            )
            yield GaugeMetricFamily(
                "herald_books_unread", "Entries the books have not read yet", lag.unread
            )
            yield GaugeMetricFamily(
                "herald_books_pending", "Entries the books read but not yet counted", lag.pending
            )
        stats = self.books.stats
        for name, value, doc in (
            ("read", stats.read, "Stream entries this process read and acknowledged"),
            ("counted", stats.counted, "Events this process counted"),
            ("duplicates", stats.duplicates, "Events this process found counted already"),
            ("dead_lettered", stats.dead_lettered, "Events it could not count (in the DLQ)"),
        ):
            yield CounterMetricFamily(f"herald_books_{name}", doc, value)
