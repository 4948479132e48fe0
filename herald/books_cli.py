"""`herald books`: keep the books (P&L, positions, recent trades) from the event streams, and
post the daily/weekly/monthly reports at each close."""

import argparse
import signal
import threading
from types import FrameType

from books.settings import load_report_settings
from herald import options

Sub = "argparse._SubParsersAction[argparse.ArgumentParser]"


def add_parser(sub: Sub) -> None:  # type: ignore[valid-type]
    p = sub.add_parser(  # type: ignore[attr-defined]
        "books",
        help="keep the books: per-period P&L figures, positions and recent trades in Redis",
    )
    options.add_redis_options(p)
    p.add_argument(
        "--name",
        help="consumer name, stable across restarts so a restarted process counts what it "
        "had read (default: <host>-books)",
    )
    p.add_argument(
        "--drain", action="store_true", help="exit once every event published so far is counted"
    )
    p.add_argument(
        "--metrics-port", type=int, default=0,
        help="serve Prometheus metrics (the books' lag) on this port (default: off)",
    )  # fmt: skip
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    p.add_argument("--log-json", action="store_true", default=argparse.SUPPRESS)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from books.metrics import BooksCollector
    from books.schedule import run_reporter
    from books.service import Books
    from worker.metrics import serve

    settings = load_report_settings(args.config)  # a bad [reports] stops here, key named
    client = options.connect(options.location(args))
    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    books = Books(client, settings, name=args.name)
    serve(args.metrics_port, BooksCollector(books))
    reports = threading.Thread(  # the scheduled reports, once the books have caught up
        target=run_reporter,
        args=(client, settings, options.location(args).url, stop, books.ready),
        name="reports",
        daemon=True,
    )
    if not args.drain:
        reports.start()
    try:
        books.run(stop, drain=args.drain)
    finally:
        stop.set()
        if reports.is_alive():
            reports.join(timeout=10)
        client.close()
    return 0
