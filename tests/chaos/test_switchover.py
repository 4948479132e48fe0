"""A switchover under load as a CI test: `SENTINEL FAILOVER` with the primary up, a split
brain on purpose (tests/chaos/test_failover.py has the rules and the long run). Its own
file, so the test command runs it beside the failover test, not after it."""

import shutil
from pathlib import Path

import pytest

from tests.chaos.test_failover import SEED, check, keep
from tests.ha.failover_run import FailoverOptions, run

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")


@pytest.mark.timeout(240)
def test_switchover_ci(tmp_path: Path) -> None:
    options = FailoverOptions(
        run_dir=tmp_path / "failover", seconds=30, events=2_000, failovers=0, switchovers=1,
        seed=SEED, drain_timeout=90,
    )  # fmt: skip
    report = run(options)
    keep(options, "switchover")
    check(report, events=2_000, failovers=0, switchovers=1)
