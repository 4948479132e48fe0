"""Smoke test for bench/bot_bench.py: `--quick` runs end to end.

No speed assertions: the target lives in the benchmark and docs/BENCHMARKS.md. The
checks are that every command was measured with every request answered (the bench
itself fails on any non-200 or wrong type) and that the figures hang together.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench" / "bot_bench.py"

pytestmark = pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="needs redis-server on PATH"
)


@pytest.mark.timeout(120)
def test_quick_run_measures_every_command(tmp_path: Path) -> None:
    results = tmp_path / "bot.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--json", str(results), "--max-seconds", "100"],
        capture_output=True,
        text=True,
        timeout=110,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "### Bot: initial response under 50 concurrent signed interactions" in proc.stdout
    data = json.loads(results.read_text())
    cfg = data["config"]
    assert set(data["results"]) == {"status", "positions", "pnl", "_load"}
    for command in ("status", "positions", "pnl"):
        found = data["results"][command]
        (run,) = found["runs"]
        assert run["requests"] == cfg["rounds"] * cfg["concurrency"], command
        assert 0 < run["p50_ms"] <= run["p99_ms"] <= run["max_ms"], command
        assert run["bot_cpu_ms_per_request"] > 0, command
        assert f"/{command}: p99 median of runs" in proc.stdout
