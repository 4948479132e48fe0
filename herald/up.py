"""`herald up`: the whole stack in the foreground, on a laptop with nothing configured.

Redis (embedded on port 6379 when it is free, AOF on, data in ./.herald/redis, unless
HERALD_REDIS_URL or herald.toml names one), the Discord sandbox for every channel without
a webhook, and the dispatcher and worker pool under supervisord (the production shape).
Ctrl-C stops everything in order: workers finish their request in flight, then the
sandbox, then Redis. `--demo` also plays a scripted trading day through the real
producer and ends with a report.
"""

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import msgspec
import redis
from rich.console import Console

from ground import keyspace
from ground.channels import CHANNELS, webhook_env
from ground.errors import HeraldError
from ground.proc import die_with_parent, free_port, port_is_free, wait_until
from ground.redact import redact
from ground.settings import STATE_DIR, forget_redis_url, read_file, record_redis_url
from herald.demo_service import NAME as DEMO_NAME
from herald.demo_service import DemoService
from herald.redis_server import RedisServer
from herald.supervisor import Layout, Supervisor
from worker.config import Settings, load
from worker.status_model import CheckStatus

console = Console()


def add_parser(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser(
        "up", help="run Redis, the sandbox, the dispatcher and workers; Ctrl-C stops"
    )
    p.add_argument("--demo", action="store_true", help="also play a scripted trading day")
    p.add_argument("--exit-after-demo", action="store_true", help="stop once the demo is delivered")
    p.add_argument("--workers", type=int, default=6, help="RQ worker processes (default 6)")
    p.add_argument(
        "--state-dir",
        default=os.environ.get("HERALD_STATE_DIR") or STATE_DIR,
        help=f"Redis data, logs, sockets (default $HERALD_STATE_DIR or {STATE_DIR})",
    )
    p.add_argument("--sandbox-port", type=int, default=8765, help="sandbox port (0: any free port)")
    p.add_argument("--config", help="herald.toml (default: $HERALD_CONFIG or ./herald.toml)")
    p.add_argument(
        "--no-live", action="store_true", help="plain log lines instead of the live view"
    )
    p.add_argument("--burst-trades", type=int, default=2_000, help="demo burst: trades")
    p.add_argument("--burst-ticks", type=int, default=10_000, help="demo burst: price ticks")
    p.add_argument("--pace", type=float, default=1.0, help="demo pauses multiplier (0: no pauses)")
    p.add_argument(
        "--drain-timeout", type=float, default=900.0, help="seconds to wait for delivery"
    )
    p.add_argument("--report-json", metavar="FILE", help="also write the demo report as JSON")
    p.add_argument("--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    p.set_defaults(func=run)


@dataclass
class Stack:
    state_dir: Path
    workers: int
    sandbox_port: int
    config: str | None
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    redis_server: RedisServer | None = None
    sandbox: subprocess.Popen[bytes] | None = None
    sandbox_url: str | None = None
    supervisor: Supervisor | None = None
    settings: Settings | None = None
    demo_service: DemoService | None = None
    """`--demo`: the service the monitor watches (when no herald.toml says otherwise)."""
    bot_port: int = 0
    """`--demo`: where the bot answers the sandbox's interactions (0: no bot)."""

    def start(self, *, demo: bool = False) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        if self.config:
            self.env["HERALD_CONFIG"] = str(Path(self.config).resolve())
        elif demo and not self.env.get("HERALD_CONFIG") and not Path("herald.toml").exists():
            self._start_demo_service()
        configured = self.env.get("HERALD_REDIS_URL") or read_file(self.config, self.env).redis_url
        if configured:
            self.env["HERALD_REDIS_URL"] = configured
            console.print(f"[bold]redis[/]   {redact(configured)}")
        else:
            self._start_redis()
        settings = load(env=self.env)
        missing = [c for c in CHANNELS if settings.channels[c].webhook_url is None]
        if missing:
            self._start_sandbox()
            from sandbox import channel_webhooks

            urls = channel_webhooks(self.sandbox_url or "")
            for channel in missing:
                self.env[webhook_env(channel)] = urls[channel]
            console.print(f"[bold]discord[/] sandbox for {', '.join('#' + c for c in missing)}")
            console.print(f"          viewer: [link={self.sandbox_url}]{self.sandbox_url}/[/link]")
        self.settings = load(env=self.env)
        herald = str(Path(sys.executable).with_name("herald"))
        layout = Layout(
            run_dir=str((self.state_dir / "run").resolve()), herald=herald, workers=self.workers
        )
        if self.demo_service is not None and self.sandbox_url:  # the bot plays too
            from herald.bot_cli import demo_bot_env

            config = Path(self.env["HERALD_CONFIG"])
            self.bot_port = demo_bot_env(
                self.env, self.sandbox_url, config, layout.run_dir, self.demo_service.restart_url
            )
            layout = replace(layout, bot_autostart=True, bot_flags=f"--port {self.bot_port}")
        self.supervisor = Supervisor(layout, self.env)
        self.supervisor.start()
        if self.bot_port:
            from herald.bot_cli import DEMO_OPERATOR_ROLE, connect_demo_bot

            connect_demo_bot(self.env, self.sandbox_url or "", self.bot_port)
            console.print(
                f"[bold]bot[/]     slash commands in the viewer's command box; role "
                f"{DEMO_OPERATOR_ROLE} may /restart {DEMO_NAME}, dispatch, monitor or books"
            )
        console.print(
            f"[bold]engine[/]  dispatcher + {self.workers} workers under supervisord "
            f"(logs in {layout.run_dir})"
        )

    def _start_demo_service(self) -> None:
        self.demo_service = DemoService()
        self.demo_service.start()
        config = self.demo_service.write_config(self.state_dir / "demo-herald.toml")
        self.env["HERALD_CONFIG"] = str(config.resolve())
        console.print(f"[bold]monitor[/] watches {DEMO_NAME} on {self.demo_service.url}")

    def _start_redis(self) -> None:
        """The embedded Redis, on 6379 when free so that `Publisher()` and `herald publish`
        anywhere on this machine reach it with no setting at all."""
        wanted = 6379
        port = wanted if port_is_free(wanted) else free_port()
        self.redis_server = RedisServer(self.state_dir / "redis", port, detached=True)
        self.redis_server.start()
        url = self.redis_server.url
        self.env["HERALD_REDIS_URL"] = url
        record_redis_url(self.state_dir, url)
        console.print(f"[bold]redis[/]   embedded on {url} (AOF in {self.state_dir / 'redis'})")
        if port != wanted:
            console.print(
                f"[yellow]        port {wanted} is taken (another Redis?), so this one is on "
                f"{port}.[/] {self._who_finds_it()}; elsewhere set HERALD_REDIS_URL={url}"
            )

    def _who_finds_it(self) -> str:
        if self.state_dir == Path(STATE_DIR):
            return "Commands and Publisher() run from this folder find it"
        return (
            f"Commands run from this folder with --state-dir {self.state_dir} (or "
            f"HERALD_STATE_DIR={self.state_dir}, which Publisher() reads too) find it"
        )

    def _start_sandbox(self) -> None:
        port = self.sandbox_port or free_port()
        herald = str(Path(sys.executable).with_name("herald"))
        log = open(self.state_dir / "sandbox.log", "ab")  # noqa: SIM115 - the child owns it
        self.sandbox = subprocess.Popen(
            [herald, "sandbox", "--port", str(port)],
            stdout=log, stderr=log, start_new_session=True, preexec_fn=die_with_parent,  # noqa: PLW1509
        )  # fmt: skip
        self.sandbox_url = f"http://127.0.0.1:{port}"

        def ready() -> bool:
            if self.sandbox is not None and self.sandbox.poll() is not None:
                raise HeraldError(
                    f"the sandbox exited (is port {port} in use? try --sandbox-port 0); "
                    f"see {self.state_dir / 'sandbox.log'}"
                )
            with contextlib.suppress(httpx.HTTPError):
                return httpx.get(f"{self.sandbox_url}/admin/stats", timeout=1).status_code == 200
            return False

        wait_until(ready, 20, f"the sandbox on port {port}", interval=0.1)

    def redis(self) -> redis.Redis:
        return redis.Redis.from_url(self.env["HERALD_REDIS_URL"])

    def stop(self) -> None:
        if self.supervisor is not None:
            console.print("stopping workers and dispatcher (finishing requests in flight)...")
            self.supervisor.stop()
        if self.sandbox is not None and self.sandbox.poll() is None:
            self.sandbox.send_signal(signal.SIGINT)
            try:
                self.sandbox.wait(10)
            except subprocess.TimeoutExpired:
                self.sandbox.kill()
                self.sandbox.wait()
        if self.demo_service is not None:
            self.demo_service.stop()
        if self.redis_server is not None:
            self.redis_server.stop()
            forget_redis_url(self.state_dir)
        console.print("stopped.")


def run(args: argparse.Namespace) -> int:
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    stack = Stack(Path(args.state_dir), args.workers, args.sandbox_port, args.config)
    try:
        stack.start(demo=args.demo)
        demo = _start_demo(stack, args, stop) if args.demo else None
        _watch(stack, args, stop, demo)
        if demo is not None and demo.report is not None:
            if args.report_json:
                Path(args.report_json).write_text(json.dumps(demo.report.to_dict(), indent=1))
            return 0 if demo.report.ok else 1
        return 0
    finally:
        stack.stop()


@dataclass
class DemoRun:
    thread: threading.Thread
    ids: list[str] = field(default_factory=list)
    critical_ids: list[str] = field(default_factory=list)
    started_ms: int = 0
    stats_before: dict[str, int] = field(default_factory=dict)
    published: bool = False
    report: Any = None


def _start_demo(stack: Stack, args: argparse.Namespace, stop: threading.Event) -> DemoRun:
    from books.settings import load_report_settings
    from herald.demo import TradingDay
    from herald.report import stats_snapshot
    from producer import Publisher

    client = stack.redis()
    run = DemoRun(threading.Thread(name="demo", daemon=True))
    run.started_ms = int(time.time() * 1000) - 1
    run.stats_before = stats_snapshot(client)

    def play() -> None:
        spool = stack.state_dir / "spool" / "demo.spool"
        with Publisher(stack.env["HERALD_REDIS_URL"], source="demo", spool_path=spool) as pub:
            day = TradingDay(
                pub, burst_trades=args.burst_trades, burst_ticks=args.burst_ticks, pace=args.pace,
                say=lambda text: console.print(f"[cyan]demo[/]    {text}"),
                outage=_outage(stack) if stack.demo_service else None,
                books=client, reports=load_report_settings(stack.env.get("HERALD_CONFIG")),
            )  # fmt: skip
            run.ids = day.play()
            run.critical_ids = day.critical_ids
            pub.flush(30)
        run.published = True
        console.print(f"[cyan]demo[/]    published {len(run.ids):,} events; waiting for delivery")

    run.thread = threading.Thread(target=play, name="demo", daemon=True)
    run.thread.start()
    return run


def _outage(stack: Stack) -> Callable[[], None]:
    """The demo's outage: stop the watched service until the monitor has seen it down,
    then start it until the monitor has seen it up (each within a generous deadline)."""

    def state() -> str:
        raw = stack.redis().hget(keyspace.MONITOR_CHECKS, DEMO_NAME)
        return msgspec.json.decode(raw, type=CheckStatus).state if raw else ""

    def play() -> None:
        assert stack.demo_service is not None
        stack.demo_service.stop()
        wait_until(lambda: state() == "down", 60, f"the monitor to see {DEMO_NAME} down", 0.2)
        stack.demo_service.start()
        wait_until(lambda: state() == "up", 60, f"the monitor to see {DEMO_NAME} up", 0.2)

    return play


def _watch(
    stack: Stack, args: argparse.Namespace, stop: threading.Event, demo: DemoRun | None
) -> None:
    from herald.report import DemoReport, drained
    from herald.watch import Watcher

    client = stack.redis()
    assert stack.settings is not None
    deadline: float | None = None
    with Watcher(client, stack.settings, live=not args.no_live, console=console) as watcher:
        while not stop.is_set():
            watcher.refresh()
            if demo is not None and demo.published and demo.report is None:
                deadline = deadline or time.monotonic() + args.drain_timeout
                if drained(client, demo.ids, demo.started_ms) or time.monotonic() > deadline:
                    demo.report = DemoReport.build(
                        client, demo.ids, demo.started_ms, demo.stats_before, demo.critical_ids
                    )
                    demo.report.show(console)
                    if args.exit_after_demo:
                        return
            stop.wait(1.0)
