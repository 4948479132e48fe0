"""The system under chaos: redis-server (AOF), the sandbox as its own process, and the
dispatcher plus a worker pool under supervisord, all on 127.0.0.1, all stopped by `stop`."""

import contextlib
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import redis

from ground import keyspace
from ground.channels import webhook_env
from ground.proc import die_with_parent, free_port, wait_until
from herald.redis_server import RedisServer
from herald.supervisor import Layout, Supervisor
from sandbox.testing import SandboxHandle, build_config
from sandbox.webhooks import Webhook
from worker.channels import CHANNELS, TRADING_ALERTS

FAKE_WEBHOOK_ID = "100000000000000099"
"""A webhook registered on the sandbox command line with a recognisable fake token."""


def fake_token(seed: int) -> str:
    return f"FAKE-TOKEN-CHAOS-{seed:08d}-do-not-log"


@dataclass
class StackOptions:
    run_dir: Path
    workers: int = 4
    seed: int = 1
    channel_limit: str | None = None
    """Sandbox per-channel limit (default: Discord's 30/60s)."""
    herald_rates: tuple[str, ...] = ()
    """`[delivery] rate` for Herald (default: its own 5/2s + 30/60s)."""
    retention: str | None = None
    """`dedupe.seen_ttl` and `delivery.ledger_retention` (default: Herald's 1h and 24h)."""
    metrics: bool = True


@dataclass
class Stack:
    options: StackOptions
    redis_server: RedisServer | None = None
    sandbox_proc: subprocess.Popen[bytes] | None = None
    sandbox: SandboxHandle | None = None
    supervisor: Supervisor | None = None
    env: dict[str, str] = field(default_factory=dict)
    metrics_ports: list[int] = field(default_factory=list)

    @property
    def run_dir(self) -> Path:
        return self.options.run_dir

    @property
    def token(self) -> str:
        return fake_token(self.options.seed)

    def redis(self) -> redis.Redis:
        assert self.redis_server is not None
        return redis.Redis(port=self.redis_server.port, socket_timeout=30)

    def start(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        # Not `detached`: its PR_SET_PDEATHSIG fires when the *thread* that started it ends,
        # and the monkey restarts Redis from its own thread.
        self.redis_server = RedisServer(self.run_dir / "redis")
        self.redis_server.start()
        self._start_sandbox()
        self.env = self._engine_env()
        layout = Layout(
            run_dir=str(self.run_dir / "supervisor"),
            herald=str(Path(sys.executable).with_name("herald")),
            workers=self.options.workers,
            **self._metrics_flags(),
        )
        self.supervisor = Supervisor(layout, self.env)
        self.supervisor.start(timeout=60)

    def _start_sandbox(self) -> None:
        port = free_port()
        hook = Webhook(FAKE_WEBHOOK_ID, self.token, TRADING_ALERTS)
        args = [
            str(Path(sys.executable).with_name("herald")), "sandbox", "--port", str(port),
            "--seed", str(self.options.seed), "--webhook", f"{hook.id}:{hook.token}:{hook.channel}",
        ]  # fmt: skip
        if self.options.channel_limit:
            args += ["--channel-limit", self.options.channel_limit]
        log = open(self.run_dir / "sandbox.log", "ab")  # noqa: SIM115 - the child owns it
        self.sandbox_proc = subprocess.Popen(
            args, stdout=log, stderr=log, start_new_session=True,
            preexec_fn=die_with_parent,  # noqa: PLW1509 - no orphan if the runner is killed
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"

        def ready() -> bool:
            assert self.sandbox_proc is not None
            if self.sandbox_proc.poll() is not None:
                raise RuntimeError(f"sandbox exited; see {self.run_dir / 'sandbox.log'}")
            with contextlib.suppress(httpx.HTTPError):
                return httpx.get(f"{base}/admin/stats", timeout=1).status_code == 200
            return False

        wait_until(ready, 30, "the sandbox", interval=0.1)
        config = build_config(webhooks=[hook])
        self.sandbox = SandboxHandle(base, config)
        self.sandbox.client.timeout = httpx.Timeout(60.0)

    def _engine_env(self) -> dict[str, str]:
        assert self.redis_server is not None
        assert self.sandbox is not None
        env = {k: v for k, v in os.environ.items() if not k.startswith("HERALD_")}
        env["HERALD_REDIS_URL"] = self.redis_server.url
        for channel, url in self.sandbox.webhook_urls().items():
            env[webhook_env(channel)] = url
        # trading-alerts posts through the webhook with the recognisable fake token
        fake = Webhook(FAKE_WEBHOOK_ID, self.token, TRADING_ALERTS)
        env["HERALD_WEBHOOK_TRADING_ALERTS"] = self.sandbox.base_url + fake.path
        config = self._config_toml()
        if config:
            path = self.run_dir / "herald.toml"
            path.write_text(config)
            env["HERALD_CONFIG"] = str(path)
        return env

    def _config_toml(self) -> str:
        text = ""
        if self.options.retention:
            text += f'[dedupe]\nseen_ttl = "{self.options.retention}"\n'
        if self.options.herald_rates or self.options.retention:
            text += "[delivery]\n"
        if self.options.herald_rates:
            text += "rate = [" + ", ".join(f'"{r}"' for r in self.options.herald_rates) + "]\n"
        if self.options.retention:
            text += f'ledger_retention = "{self.options.retention}"\n'
        return text

    def _metrics_flags(self) -> dict[str, str]:
        if not self.options.metrics:
            return {}
        dispatch = free_port()
        base = free_port()
        self.metrics_ports = [dispatch, *(base + i for i in range(self.options.workers))]
        return {
            "dispatch_flags": f"--metrics-port {dispatch}",
            "worker_flags": f"--metrics-port {base} --metrics-port-offset %(process_num)s",
        }

    def herald(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "herald.cli", *args],
            env=self.env, capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip

    def outbox_lengths(self) -> dict[str, int]:
        r = self.redis()
        return {c: int(r.llen(keyspace.outbox(c))) for c in CHANNELS}

    def stop(self) -> None:
        if self.supervisor is not None:
            self.supervisor.stop()
            self.supervisor = None
        if self.sandbox is not None:
            self.sandbox.close()
        if self.sandbox_proc is not None and self.sandbox_proc.poll() is None:
            self.sandbox_proc.send_signal(signal.SIGINT)
            try:
                self.sandbox_proc.wait(10)
            except subprocess.TimeoutExpired:
                self.sandbox_proc.kill()
                self.sandbox_proc.wait()
        if self.redis_server is not None:
            self.redis_server.stop()
