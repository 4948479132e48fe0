"""Smoke test for bench/failover_bench.py: `cpu --quick` end to end. No speed assertion:
the figures hang together (events published at about the asked rate, Redis CPU spent,
the dispatcher caught up)."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")


@pytest.mark.timeout(180)
def test_cpu_quick_runs_and_reports(tmp_path: Path) -> None:
    out = tmp_path / "cpu.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "failover_bench.py"), "cpu", "--quick",
         "--json", str(out)],
        capture_output=True, text=True, timeout=170, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "| events/s asked | achieved |" in done.stdout
    (result,) = json.loads(out.read_text())
    assert result["events"] > 0.5 * result["rate_asked"] * 5
    assert result["primary_cpu_s"] > 0
    assert result["backlog_at_end"] < result["rate_asked"]
    assert result["top_commands_us_per_event"]
