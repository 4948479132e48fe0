"""Redis with a replica and three Sentinels as real processes, for failover tests.

Quick settings (down after 3 s, failover timeout 3 s) so a failover takes 2-4 s;
`down_after_ms=1000` provokes spurious failovers on a loaded machine, i.e. split brains.
The nodes are started from the command line, without a config file; a killed node is
brought back as a replica of the primary the Sentinels name (`bring_back`, as
deploy/ha/redis-start.sh does), or alone to let Sentinel convert it.
"""

import contextlib
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

from ground.proc import free_port, wait_until

SERVICE = "herald"
DOWN_AFTER_MS = 3000
"""Sentinels judge a primary down after this: at 1 s a loaded 2-core machine produced
spurious failovers (a second one 1 s after the first: a split brain, below)."""
FAILOVER_TIMEOUT_MS = 3000


@dataclass
class Node:
    name: str
    port: int
    folder: Path
    replica_of: int | None = None
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        args = [
            _binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
            "--save", "", "--appendonly", "yes", "--appendfsync", "everysec",
            "--logfile", "redis.log", "--repl-diskless-sync", "yes",
            "--repl-diskless-sync-delay", "0",
        ]  # fmt: skip
        if self.replica_of is not None:
            args += ["--replicaof", "127.0.0.1", str(self.replica_of)]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self.answers, 10, f"{self.name} on port {self.port}")

    def client(self, timeout: float = 1.0) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=timeout, socket_connect_timeout=timeout)

    def answers(self) -> bool:
        with contextlib.suppress(redis.RedisError), self.client() as c:
            return bool(c.ping())
        return False

    def role(self) -> str:
        with contextlib.suppress(redis.RedisError), self.client() as c:
            role = c.role()[0]
            return role.decode() if isinstance(role, bytes) else str(role)
        return "down"

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
        self.replica_of = None  # a restart comes up alone; Sentinel makes it a replica

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Sentinels:
    folder: Path
    nodes: list[Node] = field(default_factory=list)
    sentinels: list[tuple[int, subprocess.Popen[bytes]]] = field(default_factory=list)
    failovers: list[float] = field(default_factory=list)
    """Seconds without a primary, per failover (`kill_primary` to a writable new one)."""
    down_after_ms: int = DOWN_AFTER_MS

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{port}" for port, _ in self.sentinels)
        return f"redis+sentinel://{hosts}/{SERVICE}/0"

    def start(self) -> None:
        primary = Node("redis-a", free_port(), self.folder / "redis-a")
        primary.start()
        replica = Node("redis-b", free_port(), self.folder / "redis-b", replica_of=primary.port)
        replica.start()
        self.nodes = [primary, replica]
        for n in range(3):
            self._start_sentinel(n, primary.port)
        wait_until(self._replica_synced, 20, "the replica to sync")
        wait_until(self._sentinels_agree, 20, "three Sentinels that know each other")

    def _start_sentinel(self, n: int, primary_port: int) -> None:
        port, folder = free_port(), self.folder / f"sentinel-{n}"
        folder.mkdir(parents=True, exist_ok=True)
        conf = folder / "sentinel.conf"
        conf.write_text(
            f"port {port}\nbind 127.0.0.1\ndir {folder}\nlogfile sentinel.log\n"
            f"sentinel monitor {SERVICE} 127.0.0.1 {primary_port} 2\n"
            f"sentinel down-after-milliseconds {SERVICE} {self.down_after_ms}\n"
            f"sentinel failover-timeout {SERVICE} {FAILOVER_TIMEOUT_MS}\n"
            f"sentinel parallel-syncs {SERVICE} 1\n"
        )
        proc = subprocess.Popen(
            [_binary(), str(conf), "--sentinel"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.sentinels.append((port, proc))
        wait_until(lambda: self._sentinel_answers(port), 10, f"sentinel on port {port}")

    def _sentinel_answers(self, port: int) -> bool:
        with contextlib.suppress(redis.RedisError), redis.Redis(port=port, socket_timeout=1) as c:
            return bool(c.ping())
        return False

    def _sentinels_agree(self) -> bool:
        for port, _ in self.sentinels:
            with contextlib.suppress(redis.RedisError), redis.Redis(port=port) as c:
                state = c.sentinel_master(SERVICE)
                if state["num-other-sentinels"] < 2 or state["num-slaves"] < 1:
                    return False
                continue
            return False
        return True

    def _replica_synced(self) -> bool:
        return all(node.answers() for node in self.nodes) and self.replica_ok()

    def replica_ok(self) -> bool:
        """The primary has a replica whose link is up and online."""
        with contextlib.suppress(redis.RedisError), self.primary().client() as c:
            info = c.info("replication")
            return bool(info.get("connected_slaves", 0) >= 1 and "online" in str(info["slave0"]))
        return False

    def master_port(self) -> int | None:
        """The primary according to the first Sentinel that answers."""
        for port, _ in self.sentinels:
            with contextlib.suppress(redis.RedisError), redis.Redis(port=port) as c:
                address = c.sentinel_get_master_addr_by_name(SERVICE)
                return int(address[1]) if address else None
        return None

    def primary(self) -> Node:
        port = self.master_port()
        return next(node for node in self.nodes if node.port == port)

    def replica(self) -> Node:
        port = self.master_port()
        return next(node for node in self.nodes if node.port != port)

    def kill_primary(self, timeout: float = 30) -> Node:
        """SIGKILL the primary; return once the other node is a writable primary that
        every Sentinel names. Records the seconds without a primary."""
        old = self.primary()
        started = time.monotonic()
        old.kill()
        wait_until(
            lambda: self._all_name(old.port) and self.primary().role() == "master",
            timeout,
            f"a new primary after killing {old.name}",
            interval=0.05,
        )
        self.failovers.append(time.monotonic() - started)
        return old

    def switchover(self, timeout: float = 30) -> float:
        """`SENTINEL FAILOVER`: promote the replica while the primary keeps running. Until
        Sentinel demotes it, the old primary has no replica and still takes the writes of
        clients connected to it, which its resync from the new primary then discards: a
        split brain on purpose. Returns the seconds until both nodes are settled."""
        old = self.primary()
        started = time.monotonic()
        with redis.Redis(port=self.sentinels[0][0], socket_timeout=5) as sentinel:
            sentinel.sentinel_failover(SERVICE)
        wait_until(
            lambda: self._all_name(old.port) and old.role() == "slave" and self.replica_ok(),
            timeout,
            f"{old.name} switched over to a replica",
            interval=0.05,
        )
        return time.monotonic() - started

    def _all_name(self, old_port: int) -> bool:
        seen: set[int | None] = set()
        for port, _ in self.sentinels:
            with contextlib.suppress(redis.RedisError), redis.Redis(port=port) as c:
                address = c.sentinel_get_master_addr_by_name(SERVICE)
                seen.add(int(address[1]) if address else None)
        return bool(seen) and None not in seen and old_port not in seen and len(seen) == 1

    def bring_back(self, node: Node, timeout: float = 30, *, as_replica: bool = True) -> None:
        """Restart a killed node; return once it is a synced replica of the new primary.

        `as_replica`: start it with `--replicaof` the primary the Sentinels name (what
        deploy/ha/redis-start.sh does). Without it the node comes up as a primary of its
        stale data until Sentinel converts it (~8 s later); should a Sentinel judge the
        new primary down meanwhile, it may promote the stale node and the new primary's
        writes are discarded in the resync (seen here under load with a 1 s down-after).
        """
        node.replica_of = self.primary().port if as_replica else None
        node.start()
        wait_until(
            lambda: node.role() == "slave" and self.replica_ok(),
            timeout,
            f"{node.name} back as a replica",
            interval=0.05,
        )

    def stop(self) -> None:
        for _, proc in self.sentinels:
            if proc.poll() is None:
                proc.terminate()
        for node in self.nodes:
            node.kill()  # a SIGTERMed primary waits up to 10 s for its replica: not here
        for _, proc in self.sentinels:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(10)


def _binary() -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server not found on PATH: apt-get install redis-server")
    return binary
