"""deploy/ha: the Redis and Sentinel files start as written (hosts and ports swapped for
this machine's) through redis-start.sh, form a primary, a replica and three Sentinels,
Herald writes through the Sentinel address, and a primary restarted after a failover
comes back as a replica at once; each supervisord file runs what its host is for."""

import configparser
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ground.connect import sync_client
from ground.proc import free_port, wait_until
from tests.ha.cluster import Node

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "ha"

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")


def _local(text: str, port: int, folder: Path, primary_port: int) -> str:
    text = re.sub(r"^port \d+", f"port {port}", text, flags=re.M)
    text = re.sub(r"^dir .*", f"dir {folder}", text, flags=re.M)
    text = text.replace("bind 0.0.0.0", "bind 127.0.0.1")
    return text.replace("host-a 6379", f"127.0.0.1 {primary_port}")


@dataclass
class Deployed:
    tmp: Path
    primary_port: int = field(default_factory=free_port)
    replica_port: int = field(default_factory=free_port)
    sentinel_ports: list[int] = field(default_factory=list)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{p}" for p in self.sentinel_ports)
        return f"redis+sentinel://{hosts}/herald/0"

    def start_redis(self, name: str, port: int) -> Node:
        """Through deploy/ha/redis-start.sh, as supervisord runs it."""
        folder = self.tmp / name
        folder.mkdir(exist_ok=True)
        conf = folder / "redis.conf"
        if not conf.exists():  # a restart keeps what Sentinel rewrote
            conf.write_text(
                _local((DEPLOY / f"{name}.conf").read_text(), port, folder, self.primary_port)
            )
        env = os.environ | {
            "HERALD_SENTINELS": " ".join(f"127.0.0.1:{p}" for p in self.sentinel_ports)
        }
        self.procs[name] = subprocess.Popen(
            ["sh", str(DEPLOY / "redis-start.sh"), str(conf), "127.0.0.1", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        node = Node(name, port, folder)
        wait_until(node.answers, 10, name)
        return node

    def start_sentinel(self, n: int) -> None:
        folder, port = self.tmp / f"sentinel-{n}", free_port()
        folder.mkdir()
        conf = folder / "sentinel.conf"
        text = (DEPLOY / "sentinel.conf").read_text()
        conf.write_text(_local(text, port, folder, self.primary_port))
        self.procs[f"sentinel-{n}"] = subprocess.Popen(
            ["redis-server", str(conf), "--sentinel"], stdout=subprocess.DEVNULL
        )
        self.sentinel_ports.append(port)
        wait_until(Node("sentinel", port, folder).answers, 10, f"sentinel {n}")


@pytest.fixture
def deployed(tmp_path: Path) -> Iterator[Deployed]:
    d = Deployed(tmp_path)
    try:
        d.start_redis("redis-primary", d.primary_port)  # no Sentinel yet: as configured
        d.start_redis("redis-replica", d.replica_port)
        for n in range(3):
            d.start_sentinel(n)
        yield d
    finally:
        for proc in d.procs.values():
            proc.kill()
            proc.wait()


def test_the_deployed_topology_serves_herald_and_survives_a_failover(deployed: Deployed) -> None:
    client = sync_client(deployed.url, socket_timeout=2)
    client.set("k", "v")
    assert client.info("replication")["role"] == "master"
    wait_until(lambda: client.info("replication").get("connected_slaves", 0) == 1, 20, "replica")
    assert client.wait(1, 2000) == 1
    deployed.procs["redis-primary"].send_signal(signal.SIGKILL)
    deployed.procs["redis-primary"].wait()

    def failed_over() -> bool:
        try:
            return client.set("after", "1") is True
        except Exception:
            return False

    wait_until(failed_over, 30, "writes through the new primary (down-after 5 s)", 0.2)
    assert client.connection_pool.get_master_address()[1] == deployed.replica_port  # type: ignore[attr-defined]
    started = time.monotonic()
    old = deployed.start_redis("redis-primary", deployed.primary_port)
    assert old.role() == "slave"  # at once, not ~8 s later when Sentinel would convert it
    assert time.monotonic() - started < 5
    wait_until(lambda: old.client().get("after") == b"1", 10, "the old primary to sync")


@pytest.mark.parametrize(
    ("host", "programs"),
    [
        ("host-a", {"redis", "sentinel", "dispatch", "monitor", "books", "worker"}),
        ("host-b", {"redis", "sentinel", "dispatch", "monitor", "books", "worker"}),
        ("host-c", {"sentinel", "bot"}),
    ],
)
def test_each_host_runs_its_share(host: str, programs: set[str]) -> None:
    parser = configparser.RawConfigParser()
    parser.read(DEPLOY / f"{host}.supervisord.conf")
    found = {s.removeprefix("program:") for s in parser.sections() if s.startswith("program:")}
    assert found == programs
    for section in parser.sections():
        if section.startswith("program:"):
            assert parser.get(section, "autorestart") == "true"
    if "redis" in programs:
        conf = "redis-primary.conf" if host == "host-a" else "redis-replica.conf"
        command = parser.get("program:redis", "command").split()
        assert command[:2] == ["/etc/herald/redis-start.sh", f"/etc/herald/{conf}"]
        assert command[2:] == [host, "6379"]
