"""The sandbox playing Discord, a real engine delivering to it, and `herald bot` in its
own process configured with the sandbox's public key: the whole loop a person would use."""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from ground.channels import webhook_env
from ground.proc import free_port, wait_until
from herald.redis_server import RedisServer
from sandbox.testing import SandboxHandle, run_sandbox

OPERATOR_ROLE = "700000000000000001"


@dataclass
class Stack:
    sandbox: SandboxHandle
    redis: RedisServer
    tmp: Path
    env: dict[str, str]
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        log = open(self.tmp / f"{args[0]}-{len(self.procs)}.log", "ab")  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, "-m", "herald.cli", *args], env=self.env, stdout=log, stderr=log
        )
        self.procs.append(proc)
        return proc

    def herald(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "herald.cli", *args],
            env=self.env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.tmp.glob("*.log")))

    def send(self, text: str, roles: tuple[str, ...] = (), user: str = "100000000000000009") -> Any:
        body = {"text": text, "user": user, "roles": list(roles)}
        response = self.sandbox.client.post("/api/interactions/command", json=body)
        assert response.status_code == 200, response.text
        return response.json()

    def click(self, exchange: str, custom_id: str, roles: tuple[str, ...] = (),
              user: str = "100000000000000009") -> Any:  # fmt: skip
        body = {"exchange": exchange, "custom_id": custom_id, "user": user, "roles": list(roles)}
        response = self.sandbox.client.post("/api/interactions/click", json=body)
        assert response.status_code == 200, response.text
        return response.json()

    def exchange(self, exchange_id: str) -> Any:
        found = self.sandbox.client.get("/api/interactions").json()["exchanges"]
        return next(e for e in found if e["id"] == exchange_id)


def action_config(tmp: Path, sandbox_url: str, argv: list[str]) -> Path:
    config = tmp / "herald.toml"
    quoted = ", ".join(json.dumps(a) for a in argv)  # a JSON string is a TOML basic string
    config.write_text(
        f'[bot]\napi_base = "{sandbox_url}/api/v10"\nservices = ["demo-service", "demo-api"]\n'
        f'[bot.permissions]\nrestart = ["{OPERATOR_ROLE}"]\n'
        f'[bot.actions.restart]\ncommand = [{quoted}]\ntimeout = "10s"\n'
    )
    return config


@contextmanager
def running_stack(tmp: Path, argv: list[str]) -> Iterator[Stack]:
    server = RedisServer(tmp / "redis", appendonly=False)
    server.start()
    try:
        with run_sandbox() as sandbox:
            key = sandbox.client.get("/api/interactions").json()
            env = {k: v for k, v in os.environ.items() if not k.startswith("HERALD_")}
            env.update(
                HERALD_REDIS_URL=server.url,
                HERALD_CONFIG=str(action_config(tmp, sandbox.base_url, argv)),
                HERALD_DISCORD_PUBLIC_KEY=key["public_key"],
                HERALD_DISCORD_APPLICATION_ID=key["application_id"],
                HERALD_DISCORD_BOT_TOKEN="sandbox-bot-token",
            )
            for channel, url in sandbox.webhook_urls().items():
                env[webhook_env(channel)] = url
            stack = Stack(sandbox, server, tmp, env)
            try:
                yield stack
            finally:
                for proc in stack.procs:
                    proc.terminate()
                for proc in stack.procs:
                    proc.wait(30)
    finally:
        server.stop()


def start_bot(stack: Stack) -> str:
    port = free_port()
    stack.start("bot", "--port", str(port))
    url = f"http://127.0.0.1:{port}/interactions"

    def up() -> bool:
        try:
            return httpx.post(url, content=b"{}", timeout=1).status_code == 401
        except httpx.HTTPError:
            return False

    wait_until(up, 20, "herald bot to answer")
    stack.sandbox.client.post("/api/interactions/config", json={"bot_url": url})
    return url
