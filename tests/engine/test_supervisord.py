"""The production shape: dispatcher and workers under a real supervisord."""

import os
import signal
import sys
from pathlib import Path

from herald.supervisor import Layout, Supervisor
from herald.testing import wait_until
from tests.engine.test_delivery import trade


def test_supervisord_runs_the_engine_and_restarts_killed_programs(engine, tmp_path):
    herald = str(Path(sys.executable).parent / "herald")
    sup = Supervisor(Layout(run_dir=str(tmp_path / "run"), herald=herald, workers=2), engine.env)
    sup.start()
    try:
        assert set(sup.states()) == {"dispatch:dispatch", "worker:worker-00", "worker:worker-01"}
        with engine.publisher() as pub:
            first = [pub.publish(trade(i)) for i in range(12)]
        engine.wait_delivered({"trading-alerts": 12}, timeout=30)

        before = sup.pids()
        for name in ("dispatch:dispatch", "worker:worker-00"):
            os.kill(before[name], signal.SIGKILL)

        def restarted() -> bool:
            now = sup.pids() if sup.all_running() else {}
            return all(name in now and now[name] != before[name] for name in killed)

        killed = ("dispatch:dispatch", "worker:worker-00")
        wait_until(restarted, 30, "supervisord to restart the killed programs")
        with engine.publisher() as pub:
            second = [pub.publish(trade(100 + i)) for i in range(12)]
        engine.wait_delivered({"trading-alerts": 24}, timeout=30)
        assert engine.delivered_ids("trading-alerts") == first + second
    finally:
        sup.stop()
    assert sup.process is None
