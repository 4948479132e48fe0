"""The production shape: dispatcher and workers under a real supervisord, and
`herald worker -n N`, the same workers under their own supervisord."""

import os
import signal
import sys
from pathlib import Path

from rq import Worker

from ground.proc import wait_until
from herald.supervisor import Layout, Supervisor
from tests.engine.test_delivery import trade


def test_supervisord_runs_the_engine_and_restarts_killed_programs(engine, tmp_path):
    herald = str(Path(sys.executable).parent / "herald")
    sup = Supervisor(Layout(run_dir=str(tmp_path / "run"), herald=herald, workers=2), engine.env)
    sup.start()
    try:
        assert set(sup.states()) == {
            "dispatch:dispatch",
            "monitor:monitor",
            "books:books",
            "worker:worker-00",
            "worker:worker-01",
        }
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


def _pool_pids(engine) -> list[int]:
    """The pids of the RQ workers registered in Redis (their names end in `.<pid>`)."""
    return [int(w.name.rsplit(".", 1)[1]) for w in Worker.all(connection=engine.redis)]


def _gone(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status  # a zombie has exited; its new parent has yet to reap it


def test_worker_n_is_a_supervisord_pool_that_stops_gracefully_or_dies_whole(engine, tmp_path):
    run_dir = str(tmp_path / "pool")
    engine.start_dispatcher()
    engine.start("pool", "worker", "-n", "2", "--run-dir", run_dir)
    wait_until(lambda: len(_pool_pids(engine)) == 2, 30, "two pool workers in RQ", interval=0.2)
    conf = (tmp_path / "pool" / "supervisord.conf").read_text()
    assert "[program:dispatch]" not in conf
    assert "stdout_logfile=/dev/stdout" in conf
    with engine.publisher() as pub:
        ids = [pub.publish(trade(i)) for i in range(12)]
    engine.wait_delivered({"trading-alerts": 12}, timeout=30)
    assert engine.delivered_ids("trading-alerts") == ids

    # SIGKILLed supervisord: the kernel SIGTERMs its workers, which shut down warm.
    workers = _pool_pids(engine)
    engine.kill("pool", signal.SIGKILL)
    wait_until(lambda: all(map(_gone, workers)), 30, "the pool's workers to exit")
    wait_until(lambda: not _pool_pids(engine), 10, "the workers to leave RQ's registry")

    # SIGTERMed: supervisord stops every worker, then exits 0 (same run dir, stale socket).
    pool = engine.start("pool", "worker", "-n", "2", "--run-dir", run_dir)
    wait_until(lambda: len(_pool_pids(engine)) == 2, 30, "two pool workers in RQ", interval=0.2)
    workers = _pool_pids(engine)
    engine.kill("pool", signal.SIGTERM)
    assert pool.returncode == 0
    assert all(map(_gone, workers))
    assert not _pool_pids(engine)
