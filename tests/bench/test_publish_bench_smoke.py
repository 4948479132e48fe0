"""Smoke test for bench/publish_bench.py: it runs end to end and prints its tables.

No timing assertions here: speed targets live in the benchmark and docs/benchmarks/, not
in tests. The delivery checks (XLEN, spool frames, HTTP 204s) are correctness, not speed.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench" / "publish_bench.py"

pytestmark = pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="needs redis-server on PATH"
)

LATENCY_ROWS = (
    "timer overhead (empty call)",
    "publish(), Redis up",
    "publish(), Redis stopped",
    "baseline A: encode + xadd",
    "baseline B: httpx.post",
)


@pytest.mark.timeout(60)
def test_quick_run_exits_0_and_prints_every_row(tmp_path: Path) -> None:
    results = tmp_path / "publish.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--json", str(results), "--max-seconds", "50"],
        capture_output=True,
        text=True,
        timeout=55,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| ")]
    for label in LATENCY_ROWS:
        assert any(row.startswith(f"| {label} | 1 | ") for row in rows), label
        assert any(row.startswith(f"| {label} | median | ") for row in rows), label
    assert any(row.startswith("| 1 | 20,000 | ") for row in rows), "throughput row"
    assert any(row.startswith("| publish p99 ≤ 10 µs |") for row in rows), "targets table"
    assert "MISMATCH" not in proc.stdout

    data = json.loads(results.read_text())
    (run,) = data["runs"]
    assert run["publish_up"]["all_delivered"]
    assert run["publish_up"]["stats"]["dropped"] == 0
    assert run["publish_down"]["all_delivered"]
    assert run["publish_down"]["stats"]["spooled"] == run["publish_down"]["delivered"]
    assert run["direct_xadd"]["all_delivered"]
    assert run["http_post"]["all_delivered"]
    assert run["throughput"]["end_to_end_ok"]
    assert run["throughput"]["drain_ok"]
    for key in ("p50_us", "p99_us", "p99_9_us", "max_us"):
        assert run["publish_up"][key] >= 0
