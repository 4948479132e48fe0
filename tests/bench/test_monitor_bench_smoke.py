"""Smoke test for bench/monitor_bench.py: `--quick` runs both parts end to end.

No speed assertions: the goals live in the benchmark and docs/benchmarks/monitor.md. The
checks here are that the figures hang together: every check sampled in every round, the
monitor's own drift histogram counting one start per check per round, the per-round CPU
adding up to the window's, and each outage's timeline adding up to its time to page,
with the failures needed for DOWN at least (threshold - 1) intervals apart.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench" / "monitor_bench.py"

pytestmark = pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="needs redis-server on PATH"
)

HEADERS = (
    "### Load: one `herald monitor` process",
    "#### Per round",
    "| monitor CPU % of one core |",
    "| worst probe-start drift ms |",
    "### Page: target down → Service Down in #critical-alerts",
    "| kill → page s |",
)


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict]:
    results = tmp_path_factory.mktemp("monitor-bench") / "monitor.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--json", str(results), "--max-seconds", "100"],
        capture_output=True,
        text=True,
        timeout=110,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout, json.loads(results.read_text())


@pytest.mark.timeout(120)
def test_quick_run_prints_both_parts(quick: tuple[str, dict]) -> None:
    stdout, _ = quick
    for header in HEADERS:
        assert header in stdout, header


@pytest.mark.timeout(120)
def test_every_check_ran_in_every_round(quick: tuple[str, dict]) -> None:
    _, data = quick
    cfg = data["config"]
    (run,) = data["load"]["runs"]
    rounds = run["per_round"]
    first = rounds[0]["round"]  # 1, unless start-up ran past round 0's middle
    assert [r["round"] for r in rounds] == list(range(first, first + cfg["rounds"]))
    for r in rounds:
        assert (r["sampled"], r["missing"], r["not_up"]) == (cfg["checks"], 0, 0), r
        assert r["drift_p50_ms"] <= r["drift_max_ms"]
        assert r["drift_max_ms"] > -50, "a probe cannot start before its schedule"
    assert run["drift_metric"]["starts"] == cfg["checks"] * cfg["rounds"]
    assert run["drift_metric"]["max_le_s"] != "+Inf"
    assert run["window_s"] >= (cfg["rounds"] - 0.5) * cfg["interval"]
    assert abs(sum(r["cpu_s"] for r in rounds) - run["cpu_s"]["monitor"]) < 0.01
    assert run["cpu_s"]["monitor"] > 0
    assert data["load"]["worst_drift_ms_max"] == run["worst_drift_ms"]


@pytest.mark.timeout(120)
def test_each_outage_timeline_adds_up_to_its_page(quick: tuple[str, dict]) -> None:
    _, data = quick
    runs = data["page"]["runs"]
    assert len(runs) == data["config"]["page_runs"]
    for run in runs:
        interval, threshold = run["interval_s"], run["failure_threshold"]
        assert threshold == 3, "the page part runs at the default failure_threshold"
        assert run["state_after"] == "down"
        parts = (
            run["kill_to_first_failed_probe_s"],
            run["first_to_last_failed_probe_s"],
            run["last_failed_probe_to_publish_s"],
            run["publish_to_page_s"],
        )
        assert abs(sum(parts) - run["to_page_s"]) < 0.01, run
        assert run["kill_to_first_failed_probe_s"] > -0.05, run
        assert run["first_to_last_failed_probe_s"] >= (threshold - 1) * interval * 0.8, run
        assert run["last_failed_probe_to_publish_s"] >= -0.002, run  # event ids carry milliseconds
        assert run["publish_to_page_s"] >= 0, run
        assert 0 <= run["phase_s"] < interval
    assert data["page"]["max_s"] == max(r["to_page_s"] for r in runs)
