"""Smoke test for bench/engine_bench.py: `--quick` runs end to end and prints its tables.

No timing assertions: speed targets live in the benchmark and docs/benchmarks/engine.md.
The checks here are correctness only (every event reached an outbox, every idle sample
arrived, the burst's critical alerts were delivered).
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench" / "engine_bench.py"

pytestmark = pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="needs redis-server on PATH"
)

HEADERS = (
    "### Dispatcher throughput",
    "| design | run | events | seconds | events/s |",
    "| design | median events/s | target |",
    "### Idle end-to-end latency",
    "| design | samples | p50 ms | p99 ms | max ms |",
    "### Burst:",
    "| design | events | publish s | accepted requests | requests/event | 429s |",
)


@pytest.mark.timeout(90)
def test_quick_run_exits_0_and_prints_the_tables(tmp_path: Path) -> None:
    results = tmp_path / "engine.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--json", str(results)],
        capture_output=True,
        text=True,
        timeout=85,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    for header in HEADERS:
        assert header in proc.stdout, header
    for label in ("herald Dispatcher", "naive: RQ enqueue per event", "herald engine"):
        assert f"| {label} |" in proc.stdout, label

    data = json.loads(results.read_text())
    assert all(run["ok"] for run in data["throughput"]["herald"])
    assert all(run["ok"] for runs in data["throughput"]["naive"].values() for run in runs)
    assert data["latency"]["herald"]["missing"] == 0
    assert data["latency"]["naive"]["missing"] == 0
    burst = data["burst"]["herald"]
    assert burst["alerts_delivered"] == burst["alerts_total"]
