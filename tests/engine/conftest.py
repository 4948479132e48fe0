"""A real engine for a test: redis-server, the sandbox, and `herald dispatch` and
`herald worker` as separate processes (so they can be SIGKILLed)."""

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis

from ground import keyspace
from ground.channels import webhook_env
from ground.proc import wait_until
from herald.redis_server import RedisServer
from producer import Publisher
from sandbox.testing import SandboxHandle, run_sandbox
from worker.channels import CHANNELS


@dataclass
class Engine:
    redis_server: RedisServer
    sandbox: SandboxHandle
    env: dict[str, str]
    tmp: Path
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def redis(self) -> redis.Redis:
        return self.redis_server.client()

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = open(self.tmp / f"{name}.log", "ab")  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, "-m", "herald.cli", *args], env=self.env, stdout=log, stderr=log
        )
        self.procs[name] = proc
        return proc

    def start_dispatcher(self, name: str = "dispatch-0") -> subprocess.Popen[bytes]:
        return self.start(name, "dispatch", "--name", name)

    def start_worker(self, name: str = "worker-0") -> subprocess.Popen[bytes]:
        return self.start(name, "worker", "-n", "1", "--name", f"{name}-{os.getpid()}")

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs.pop(name)
        proc.send_signal(sig)
        proc.wait(30)

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.procs.clear()

    def publisher(self, **kw: Any) -> Publisher:
        return Publisher(
            self.redis_server.url, source="test", spool_path=self.tmp / "pub.spool", **kw
        )

    def delivered_ids(self, channel: str) -> list[str]:
        """Event ids in the order the sandbox accepted them, read from embed footers."""
        ids = []
        for message in self.sandbox.messages(channel):
            for embed in message.get("embeds", []):
                text = embed.get("footer", {}).get("text", "")
                ids.append(text.rsplit(" · ", 1)[-1])
        return ids

    def outboxes_empty(self) -> bool:
        r = self.redis
        return all(r.llen(keyspace.outbox(c)) == 0 for c in CHANNELS)

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.tmp.glob("*.log")))

    def wait_delivered(self, expected: dict[str, int], timeout: float) -> None:
        def done() -> bool:
            return all(len(self.delivered_ids(c)) >= n for c, n in expected.items())

        try:
            wait_until(done, timeout, f"deliveries {expected}", interval=0.2)
        except TimeoutError:
            got = {c: len(self.delivered_ids(c)) for c in expected}
            raise TimeoutError(f"expected {expected}, got {got}\n{self.logs()[-4000:]}") from None


def engine_env(redis_url: str, sandbox: SandboxHandle, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERALD_")}
    env["HERALD_REDIS_URL"] = redis_url
    for channel, url in sandbox.webhook_urls().items():
        env[webhook_env(channel)] = url
    env.update(extra)
    return env


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    server = RedisServer(tmp_path / "redis")
    server.start()
    try:
        with run_sandbox() as sandbox:
            env = engine_env(server.url, sandbox, HERALD_SPOOL_DIR=str(tmp_path / "spool"))
            eng = Engine(server, sandbox, env, tmp_path)  # its own spools: no test inherits
            try:
                yield eng
            finally:
                eng.stop_all()
    finally:
        server.stop()
