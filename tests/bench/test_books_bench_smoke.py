"""Smoke test for bench/books_bench.py: `--quick` runs all three parts end to end.

No speed assertions: the goals live in the benchmark and docs/BENCHMARKS.md. The checks
are that the figures hang together: every trade published is counted exactly once, the
books caught up (after the lag fell under 1 s), the month's figures matched what was
generated, and the memory part measured some keys of each kind.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench" / "books_bench.py"

pytestmark = pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="needs redis-server on PATH"
)


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict]:
    results = tmp_path_factory.mktemp("books-bench") / "books.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--json", str(results)],
        capture_output=True,
        text=True,
        timeout=170,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout, json.loads(results.read_text())


@pytest.mark.timeout(180)
def test_quick_run_prints_all_parts(quick: tuple[str, dict]) -> None:
    stdout, _ = quick
    for header in ("### Burst", "### Month", "### Memory"):
        assert header in stdout, header


@pytest.mark.timeout(180)
def test_the_burst_is_counted_exactly_once(quick: tuple[str, dict]) -> None:
    _, data = quick
    (run,) = data["burst"]["runs"]
    cfg = data["config"]
    assert run["trades"] == int(cfg["rate"] * cfg["seconds"])
    assert run["figures_trades"] == run["trades"]
    assert 0 <= run["counted_during_burst"] <= run["trades"]
    assert 0 <= run["lag_under_1s_after_end_s"] <= run["caught_up_after_end_s"]
    assert run["books_cpu_s"] > 0


@pytest.mark.timeout(180)
def test_the_month_and_the_memory_were_measured(quick: tuple[str, dict]) -> None:
    _, data = quick
    month, memory = data["month"], data["memory"]
    assert month["checked"]["trades"] == month["trades"] == data["config"]["month_trades"]
    assert len(month["figures_ms"]) == data["config"]["repeat"]
    assert month["series_points"] == 30
    assert (month["pairs"], month["strategies"]) == (5, 4)
    assert memory["used_memory_delta_bytes"] > 0
    assert {"day", "curve", "seen", "recent", "scopes", "positions"} <= set(memory["by_kind_bytes"])
