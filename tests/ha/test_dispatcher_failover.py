"""`herald dispatch` on a Sentinel address, when its primary stops answering without
closing its connections (a host that vanishes: SIGSTOP here, no RST): the dispatcher's
read times out (redis-py 8's default socket timeout, 5 s) and it carries on with the new
primary, no restart. Without a socket timeout it would wait for TCP keepalive (hours)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ground.connect import sync_client
from ground.proc import wait_until
from producer.streams import stream_key
from schemas.codec import encode
from schemas.envelope import wrap
from schemas.ids import new_event_id
from tests.factories import sample
from tests.ha.cluster import Sentinels
from worker.lanes import lag_and_pending


def _xadd(client: object, kind: str) -> str:
    now = time.time_ns()
    envelope = wrap(sample(kind), source="ha-test", now_ns=now, event_id=new_event_id(now))
    client.xadd(stream_key(envelope.lane), {"e": encode(envelope)})  # type: ignore[attr-defined]
    return stream_key(envelope.lane)


@pytest.mark.timeout(120)
def test_the_dispatcher_follows_a_primary_that_vanished(
    sentinels: Sentinels, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERALD_")}
    env["HERALD_REDIS_URL"] = sentinels.url
    log = open(tmp_path / "dispatch.log", "ab")  # noqa: SIM115 - the child owns it
    proc = subprocess.Popen(
        [sys.executable, "-m", "herald.cli", "dispatch", "--name", "ha-dispatch"],
        env=env, stdout=log, stderr=log,
    )  # fmt: skip
    client = sync_client(sentinels.url, socket_timeout=2)
    stopped = sentinels.primary()
    assert stopped.process is not None
    try:
        stream = _xadd(client, "trade_executed")
        wait_until(lambda: lag_and_pending(client, stream) == (0, 0), 30, "the first entry handled")
        os.kill(stopped.process.pid, signal.SIGSTOP)  # connections stay open, nothing answers
        wait_until(lambda: sentinels.master_port() not in (None, stopped.port), 30, "a failover")

        def handled_on_the_new_primary() -> bool:
            try:
                return lag_and_pending(client, stream) == (0, 0)
            except Exception:
                return False

        wait_until(lambda: _written(client), 30, "a write to the new primary", 0.2)
        wait_until(handled_on_the_new_primary, 40, "the dispatcher on the new primary", 0.2)
        assert proc.poll() is None  # followed, not restarted
    finally:
        os.kill(stopped.process.pid, signal.SIGCONT)
        proc.terminate()
        proc.wait(30)
        log.close()


def _written(client: object) -> bool:
    try:
        _xadd(client, "trade_executed")
    except Exception:
        return False
    return True
