"""`herald monitor` as its own process, through the real engine to the sandbox: a target
dies, the page reaches #critical-alerts; it comes back, the recovery follows; `herald
status` shows the check all along."""

import json
import socketserver
import subprocess
import sys
import threading
from pathlib import Path

from ground.proc import free_port, wait_until

HERALD = str(Path(sys.executable).with_name("herald"))


class Target:
    """A TCP service the test can kill and revive on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.server: socketserver.TCPServer | None = None

    def start(self) -> None:
        socketserver.TCPServer.allow_reuse_address = True
        self.server = socketserver.TCPServer(
            ("127.0.0.1", self.port), socketserver.BaseRequestHandler
        )
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


def titles(engine, channel: str) -> list[str]:
    return [
        e.get("title", "") for m in engine.sandbox.messages(channel) for e in m.get("embeds", [])
    ]


def paged(engine) -> bool:
    return any("Service Down" in t and "order-api" in t for t in titles(engine, "critical-alerts"))


def test_a_dead_target_pages_critical_alerts_and_its_recovery_follows(engine, tmp_path):
    target = Target()
    target.start()
    config = tmp_path / "herald.toml"
    config.write_text(
        "[monitor]\n"
        'interval = "0.5s"\n'
        "[[monitor.checks]]\n"
        'name = "order-api"\n'
        'kind = "tcp"\n'
        'host = "127.0.0.1"\n'
        f"port = {target.port}\n"
        'server = "prod-7"\n'
        'impact = "no new orders"\n'
    )
    engine.start_dispatcher()
    engine.start_worker()
    engine.start("monitor", "monitor", "--config", str(config))

    def status() -> dict:
        done = subprocess.run(
            [HERALD, "status", "--json", "--config", str(config)], env=engine.env,
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        return json.loads(done.stdout)

    def check_state() -> str:
        checks = status()["checks"]
        return checks[0]["state"] if checks else ""

    try:
        wait_until(lambda: check_state() == "up", 30, "the check to come up", interval=0.3)
        target.stop()
        wait_until(lambda: paged(engine), 30, "the page in #critical-alerts", interval=0.2)
        assert check_state() == "down"
        target.start()
        wait_until(
            lambda: any("Recovered" in t for t in titles(engine, "critical-alerts")),
            30, "the recovery", interval=0.2,
        )  # fmt: skip
    finally:
        target.stop()
    pages = [t for t in titles(engine, "critical-alerts") if "Service Down - order-api" in t]
    assert len(pages) == 1, titles(engine, "critical-alerts")
