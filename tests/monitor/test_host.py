"""The host at a glance: real psutil readings, and the network line from counter deltas."""

import re
import socket
import threading
from typing import NamedTuple

from monitor.host import NETWORK_CHARS, HostWatch, network_status

RATE = r"\d+(\.\d)? (B|kB|MB|GB)/s"


class Net(NamedTuple):
    bytes_sent: int = 0
    bytes_recv: int = 0
    errin: int = 0
    errout: int = 0
    dropin: int = 0
    dropout: int = 0


def test_a_read_is_in_range_and_short() -> None:
    stats = HostWatch().read()
    assert 0 < stats.memory_pct <= 100
    assert 0 <= stats.cpu_pct <= 100
    assert re.fullmatch(f"↓{RATE} ↑{RATE}( · errors \\+\\d+)?", stats.network), stats.network
    assert len(stats.network) <= NETWORK_CHARS


def test_network_counts_the_traffic_since_the_last_read() -> None:
    clock = iter([100.0, 101.0, 102.0])
    watch = HostWatch(clock=lambda: next(clock))
    with socket.create_server(("127.0.0.1", 0)) as server:
        received = bytearray()

        def drain() -> None:
            conn, _ = server.accept()
            with conn:
                while chunk := conn.recv(1 << 16):
                    received.extend(chunk)

        reader = threading.Thread(target=drain)
        reader.start()
        with socket.create_connection(server.getsockname()) as client:
            client.sendall(b"x" * 5_000_000)
        reader.join(10)
    assert len(received) == 5_000_000
    busy = watch.read()  # one second on the test's clock, 5 MB over loopback in it
    assert received_per_s(busy.network) >= 5_000_000, busy.network
    quiet = watch.read()  # the next read counts only what came after the first
    assert received_per_s(quiet.network) < 5_000_000, quiet.network


def received_per_s(network: str) -> float:
    match = re.match(r"↓(\d+(?:\.\d)?) (B|kB|MB|GB)/s", network)
    assert match, network
    return float(match[1]) * {"B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9}[match[2]]


def test_network_status_rates_and_errors() -> None:
    before = Net(bytes_sent=0, bytes_recv=0, errin=1)
    after = Net(bytes_sent=300_000, bytes_recv=2_400_000, errin=3, dropout=1)
    assert network_status(before, after, 2.0) == "↓1.2 MB/s ↑150.0 kB/s · errors +3"
    assert network_status(after, after, 2.0) == "↓0 B/s ↑0 B/s"
    assert network_status(after, before, 2.0) == "↓0 B/s ↑0 B/s"  # counters reset
    assert network_status(None, after, 2.0) == "no network interfaces"
    huge = Net(bytes_recv=10**30, bytes_sent=10**30, errin=10**30)
    assert len(network_status(Net(), huge, 1e-9)) <= NETWORK_CHARS
