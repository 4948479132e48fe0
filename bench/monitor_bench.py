"""Herald monitor benchmark: the load of one `herald monitor` process running many HTTP
checks, and the time from a target dying to its page in #critical-alerts.

    .venv/bin/python bench/monitor_bench.py                  # both parts (~20 min)
    .venv/bin/python bench/monitor_bench.py --only load      # 3 runs: 500 checks, 10 rounds of 30 s
    .venv/bin/python bench/monitor_bench.py --only page      # 3 outages at the default thresholds
    .venv/bin/python bench/monitor_bench.py --quick          # smoke run (~20 s)

Figures, method and findings: docs/benchmarks/monitor.md.

Everything runs on 127.0.0.1, and the monitor is the production command, `herald monitor
--config FILE`, in its own process (self-watch on, `--metrics-port` on), as supervisord
runs it. The whole run is bounded by `--max-seconds`: a watchdog kills every child
process and exits 3.

1. Load (`--only load`): the HTTP targets are one aiohttp process listening on `--ports`
   ports (default 10), each check a path of its own (`/c/<i>`, the checks spread over the
   ports); that process's CPU is reported beside, never counted. A throwaway redis-server
   (AOF on, as deployed). Once the first round has been recorded (round 0: start-up,
   excluded), the bench wakes at the middle of every interval (when the round has
   finished and the next has not begun), reads the monitor's CPU (psutil `cpu_times` of
   its pid: user + system, every thread) and every check's last sample from Redis (what
   `herald status` reads). Per round: CPU, how late each probe started against the
   schedule (`last_at` - (first probe of round 0 + k x interval)), how long the round took.
   The monitor's own drift histogram (`herald_monitor_drift_seconds`, scraped before and
   after the measured window) gives an upper bound on how late the loop started checks.
2. Page (`--only page`): per run a fresh stack: redis-server, `herald dispatch`, `herald
   worker -n 1`, `herald monitor` with one HTTP check at the default interval and
   thresholds (30 s, failure_threshold 3), all pointing at the sandbox (`herald sandbox`,
   one process for all runs). Once `herald status --json` shows the check up, the target
   process is killed (SIGKILL; `--outage stop` SIGSTOPs it instead: a hung host) at a
   random phase of the interval (seeded; `--phase` fixes it), and the bench waits for the
   "Service Down" embed in #critical-alerts. Time to page = the sandbox's timestamp of that
   message - the kill, split by the monitor's memory in Redis (first and last failed probe)
   and the page's event id (when it was published).

`--profile PATH` runs the load part's monitor under cProfile, for diagnosis only.
"""

import argparse
import contextlib
import hashlib
import json
import math
import os
import platform
import random
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import msgspec
import psutil
import redis
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ground import keyspace  # noqa: E402
from ground.channels import CRITICAL_ALERTS, webhook_env  # noqa: E402
from ground.proc import die_with_parent, free_port, wait_until  # noqa: E402
from herald.redis_server import RedisServer  # noqa: E402
from monitor.settings import CheckSpec, monitor_settings  # noqa: E402
from monitor.state import Memory  # noqa: E402
from sandbox.webhooks import channel_webhooks  # noqa: E402
from schemas.ids import event_id_millis  # noqa: E402
from worker.status_model import CheckStatus  # noqa: E402

FULL: dict[str, Any] = {
    "runs": 3,
    "checks": 500,
    "ports": 10,
    "interval": 30.0,
    "rounds": 10,
    "page_runs": 3,
    "page_interval": 30.0,
}
QUICK: dict[str, Any] = {
    "runs": 1,
    "checks": 20,
    "ports": 2,
    "interval": 1.0,
    "rounds": 5,
    "page_runs": 2,
    "page_interval": 1.0,
}
CPU_GOAL_PCT = 10.0
DRIFT_GOAL_S = 1.0
PAGE_SLACK_S = 2.0
"""Goal for the page: interval x failure_threshold + this."""
CHECK = "order-api"
CODE_PATHS = ("monitor", "herald", "producer", "worker", "ground", "schemas", "sandbox")
DRIFT = "herald_monitor_drift_seconds"

_children: list[subprocess.Popen[bytes]] = []
_servers: list[RedisServer] = []


# -- processes -----------------------------------------------------------------------------

TARGET_SCRIPT = r"""
import asyncio, socket, sys
from aiohttp import web

async def ok(request):
    return web.Response(text="ok")

async def main(ports):
    app = web.Application()
    app.router.add_get("/c/{i}", ok)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    bound = []
    for _ in range(ports):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(1024)
        await web.SockSite(runner, sock).start()
        bound.append(sock.getsockname()[1])
    print(" ".join(map(str, bound)), flush=True)
    await asyncio.Event().wait()

asyncio.run(main(int(sys.argv[1])))
"""


def spawn(args: list[str], env: dict[str, str] | None, log_path: Path) -> subprocess.Popen[bytes]:
    """A child in its own session that dies with the bench, output to `log_path`."""
    with open(log_path, "ab") as out:
        proc = subprocess.Popen(
            args,
            env=env,
            stdout=out,
            stderr=out,
            cwd=ROOT,
            start_new_session=True,
            preexec_fn=die_with_parent,  # noqa: PLW1509
        )
    _children.append(proc)
    return proc


def stop(proc: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGCONT)  # a stopped target cannot exit
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    with contextlib.suppress(ValueError):
        _children.remove(proc)


def kill_everything() -> None:
    for proc in list(_children):
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGCONT)
            proc.kill()
    for server in list(_servers):
        with contextlib.suppress(Exception):
            server.kill()


def start_redis(tmp: Path, name: str) -> RedisServer:
    server = RedisServer(tmp / name)
    _servers.append(server)
    server.start()
    return server


def stop_redis(server: RedisServer) -> None:
    server.stop()
    with contextlib.suppress(ValueError):
        _servers.remove(server)


def start_targets(tmp: Path, ports: int, name: str) -> tuple[subprocess.Popen[bytes], list[int]]:
    """The aiohttp target process; returns it and the ports it listens on."""
    out = tmp / f"{name}.ports"
    with open(out, "wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-c", TARGET_SCRIPT, str(ports)],
            stdout=sink,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=die_with_parent,  # noqa: PLW1509
        )
    _children.append(proc)

    def ready() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"target process exited with {proc.returncode}")
        return out.read_text().endswith("\n")

    wait_until(ready, 20, "the target process", interval=0.05)
    return proc, [int(p) for p in out.read_text().split()]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERALD_")}
    env.update(extra)
    return env


def herald(*args: str) -> list[str]:
    return [sys.executable, "-m", "herald.cli", *args]


def cpu_s(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return float(times.user + times.system)


def sleep_until(at: float) -> None:
    """Wait for a moment on the schedule being measured (not a synchronisation)."""
    time.sleep(max(0.0, at - time.time()))


def pct(part: float, whole: float) -> float:
    return round(100.0 * part / whole, 2) if whole > 0 else 0.0


# -- 1. load -------------------------------------------------------------------------------


def load_config(path: Path, ports: list[int], checks: int, interval: float) -> Path:
    lines = ["[monitor]", f'interval = "{interval:g}s"', ""]
    for i in range(checks):
        lines += [
            "[[monitor.checks]]",
            f'name = "svc-{i:03d}"',
            'kind = "http"',
            f'url = "http://127.0.0.1:{ports[i % len(ports)]}/c/{i}"',
            f'server = "host-{i % len(ports)}"',
            "",
        ]
    path.write_text("\n".join(lines))
    return path


def snapshot(r: redis.Redis) -> dict[str, CheckStatus]:
    """Every check's last sample, as the monitor wrote it for `herald status`."""
    decoder = msgspec.json.Decoder(CheckStatus)
    raw: dict[bytes, bytes] = r.hgetall(keyspace.MONITOR_CHECKS)  # type: ignore[assignment]
    return {k.decode(): decoder.decode(v) for k, v in raw.items()}


def scrape_drift(port: int) -> dict[str, float]:
    """The drift histogram: cumulative count per bucket bound, plus `count` and `sum`."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        if family.name != DRIFT:
            continue
        for sample in family.samples:
            if sample.name.endswith("_bucket"):
                out[sample.labels["le"]] = sample.value
            elif sample.name.endswith("_count"):
                out["count"] = sample.value
            elif sample.name.endswith("_sum"):
                out["sum"] = sample.value
    return out


def drift_window(before: dict[str, float], after: dict[str, float]) -> dict[str, Any]:
    """Starts observed between two scrapes: how many, their mean, and the smallest bucket
    bound that holds them all (an upper bound on the worst)."""
    count = after.get("count", 0) - before.get("count", 0)
    bounds = sorted(float(le) for le in after if le not in ("count", "sum"))
    worst = next(
        (b for b in bounds if after[_le(b)] - before.get(_le(b), 0) >= count), float("inf")
    )
    total = after.get("sum", 0) - before.get("sum", 0)
    return {
        "starts": int(count),
        "mean_ms": round(1000 * total / count, 3) if count else None,
        "max_le_s": worst if worst != float("inf") else "+Inf",
    }


def _le(bound: float) -> str:
    return "+Inf" if bound == float("inf") else str(bound)


def round_figures(
    k: int, due: float, snap: dict[str, CheckStatus], cfg: dict[str, Any], cpu: float
) -> dict[str, Any]:
    """Round k (its schedule `due`) as seen at the middle of the following interval."""
    interval = cfg["interval"]
    mine = [c for c in snap.values() if abs(c.last_at - due) < interval / 2]
    drift = sorted(c.last_at - due for c in mine)
    latency = sorted(c.last_latency_ms or 0.0 for c in mine)
    ends = [c.last_at + (c.last_latency_ms or 0.0) / 1000 for c in mine]
    return {
        "round": k,
        "sampled": len(mine),
        "missing": cfg["checks"] - len(mine),
        "not_up": sum(1 for c in mine if c.state != "up"),
        "cpu_s": round(cpu, 4),
        "cpu_pct": pct(cpu, interval),
        "drift_p50_ms": round(1000 * statistics.median(drift), 2) if drift else None,
        "drift_max_ms": round(1000 * drift[-1], 2) if drift else None,
        "spread_ms": round(1000 * (drift[-1] - drift[0]), 2) if drift else None,
        "done_ms": round(1000 * (max(ends) - due), 2) if ends else None,
        "latency_p50_ms": round(statistics.median(latency), 2) if latency else None,
        "latency_max_ms": round(latency[-1], 2) if latency else None,
    }


class Meters:
    """CPU seconds of the monitor, the targets and redis-server, read together."""

    def __init__(self, monitor: int, targets: int, redis_pid: int) -> None:
        self.procs = {n: psutil.Process(p) for n, p in (("monitor", monitor),
                                                        ("targets", targets),
                                                        ("redis", redis_pid))}  # fmt: skip

    def read(self) -> dict[str, float]:
        return {name: cpu_s(proc) for name, proc in self.procs.items()}


def one_load_run(index: int, cfg: dict[str, Any], tmp: Path) -> dict[str, Any]:
    interval, checks, rounds = cfg["interval"], cfg["checks"], cfg["rounds"]
    load_start = os.getloadavg()[0]
    server = start_redis(tmp, f"load-redis-{index}")
    targets, ports = start_targets(tmp, cfg["ports"], f"targets-{index}")
    config = load_config(tmp / f"load-{index}.toml", ports, checks, interval)
    metrics_port = free_port()
    env = clean_env(HERALD_REDIS_URL=server.url, HERALD_METRICS_ADDR="127.0.0.1")
    args = herald("monitor", "--config", str(config), "--metrics-port", str(metrics_port))
    if cfg["profile"]:  # diagnosis only: the profiler's own cost inflates every figure
        args[1:1] = ["-m", "cProfile", "-o", f"{cfg['profile']}.{index}"]
    monitor = spawn([*args, "--log-level", "WARNING"], env, tmp / f"load-monitor-{index}.log")
    r = server.client()
    log_path = tmp / f"load-monitor-{index}.log"
    try:
        started = time.time()
        wait_until(
            lambda: _alive(monitor) and r.hlen(keyspace.MONITOR_CHECKS) > 0,
            30 + interval, "the monitor's first sample", interval=0.05,
        )  # fmt: skip
        first = min(c.last_at for c in snapshot(r).values())
        sleep_until(first + interval / 2)  # round 0 has finished (or failed to record)
        anchor = min(c.last_at for c in snapshot(r).values())
        assert server.process is not None
        meters = Meters(monitor.pid, targets.pid, server.process.pid)
        result = measure_rounds(cfg, r, meters, anchor, metrics_port)
        result["startup_s"] = round(anchor - started, 2)
        result["rss_mb"] = round(meters.procs["monitor"].memory_info().rss / 2**20, 1)
        _alive(monitor)
    finally:
        stop(monitor, 120 if cfg["profile"] else 15)  # a profile is written on exit
        stop(targets)
        r.close()
        stop_redis(server)
    result.update(run=index, checks=checks, ports=len(ports), interval_s=interval, rounds=rounds)
    result.update(warnings(log_path), load1=[round(load_start, 2), round(os.getloadavg()[0], 2)])
    result["code"] = code_state()
    return result


def warnings(log_path: Path) -> dict[str, Any]:
    """The monitor's warnings over the whole run: how many, and how many of each kind."""
    kinds: dict[str, int] = {}
    for line in log_path.read_text(errors="replace").splitlines():
        if "level=warning" in line or "level=error" in line:
            kind = re.sub(r"svc-\d+", "svc-N", line.split("msg=", 1)[-1])
            kind = re.sub(r"\d+", "N", kind)
            kinds[kind] = kinds.get(kind, 0) + 1
    top = sorted(kinds.items(), key=lambda kv: -kv[1])[:6]
    return {"warnings": sum(kinds.values()), "warning_kinds": dict(top)}


def measure_rounds(
    cfg: dict[str, Any], r: redis.Redis, meters: Meters, anchor: float, metrics_port: int
) -> dict[str, Any]:
    """Wake at the middle of each interval; round 0 (start-up) only opens the window."""
    interval, rounds = cfg["interval"], cfg["rounds"]
    late = (time.time() - anchor) / interval - 0.5  # past round 0's middle, in intervals
    k0 = max(0, math.ceil(late - 0.1))  # normally 0: a few ms past the middle still counts
    sleep_until(anchor + (k0 + 0.5) * interval)
    drift_before = scrape_drift(metrics_port)  # scraped outside the window: not counted
    first = last = meters.read()
    t_first = time.time()
    per_round = []
    for k in range(k0 + 1, k0 + rounds + 1):
        sleep_until(anchor + (k + 0.5) * interval)
        now = meters.read()
        snap = snapshot(r)
        per_round.append(
            round_figures(k, anchor + k * interval, snap, cfg, now["monitor"] - last["monitor"])
        )
        last = now
    wall = time.time() - t_first
    drift_after = scrape_drift(metrics_port)
    used = {name: last[name] - first[name] for name in last}
    drifts = [x["drift_max_ms"] for x in per_round if x["drift_max_ms"] is not None]
    return {
        "window_s": round(wall, 2),
        "cpu_s": {k: round(v, 3) for k, v in used.items()},
        "cpu_pct": {k: pct(v, wall) for k, v in used.items()},
        "worst_drift_ms": max(drifts) if drifts else None,
        "drift_metric": drift_window(drift_before, drift_after),
        "missing": sum(x["missing"] for x in per_round),
        "not_up": sum(x["not_up"] for x in per_round),
        "per_round": per_round,
    }


def _alive(proc: subprocess.Popen[bytes]) -> bool:
    if proc.poll() is not None:
        raise RuntimeError(f"`herald monitor` exited with {proc.returncode}; see its log")
    return True


def bench_load(cfg: dict[str, Any], tmp: Path) -> dict[str, Any]:
    runs = []
    for index in range(1, cfg["runs"] + 1):
        run = one_load_run(index, cfg, tmp)
        print(f"  load run {index}: {_brief_load(run)}", file=sys.stderr, flush=True)
        runs.append(run)
    cpus = [run["cpu_pct"]["monitor"] for run in runs]
    drifts = [run["worst_drift_ms"] for run in runs if run["worst_drift_ms"] is not None]
    return {
        "runs": runs,
        "cpu_pct_median": round(statistics.median(cpus), 2),
        "cpu_pct_max": max(cpus),
        "worst_drift_ms_median": round(statistics.median(drifts), 2) if drifts else None,
        "worst_drift_ms_max": max(drifts) if drifts else None,
    }


def _brief_load(run: dict[str, Any]) -> str:
    return (
        f"monitor CPU {run['cpu_pct']['monitor']} % over {run['window_s']} s, "
        f"worst drift {run['worst_drift_ms']} ms, metric {run['drift_metric']}, "
        f"missing {run['missing']}, not up {run['not_up']}"
    )


# -- 2. page -------------------------------------------------------------------------------


class Sandbox:
    """`herald sandbox --port P` in its own process, default limits."""

    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.proc = spawn(herald("sandbox", "--port", str(self.port)), None, tmp / "sandbox.log")
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=10.0)
        wait_until(self._ready, 20, "the sandbox", interval=0.05)

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"sandbox exited with {self.proc.returncode}")
        try:
            return self.http.get("/admin/stats").status_code == 200
        except httpx.HTTPError:
            return False

    def env(self, redis_url: str) -> dict[str, str]:
        """As tests/engine/conftest.py engine_env: Redis, and every channel's webhook."""
        hooks = channel_webhooks(f"http://127.0.0.1:{self.port}")
        return clean_env(
            HERALD_REDIS_URL=redis_url, **{webhook_env(c): u for c, u in hooks.items()}
        )

    def critical(self) -> list[dict[str, Any]]:
        found = self.http.get("/api/messages", params={"channel": CRITICAL_ALERTS}).json()
        return list(found)

    def close(self) -> None:
        self.http.close()
        stop(self.proc)


def status(env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        herald("status", "--json"),
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
        check=False,  # exit 1 (degraded) still prints the JSON
    )
    data: dict[str, Any] = json.loads(done.stdout) if done.stdout.strip() else {}
    return data


def page_config(path: Path, port: int, interval: float) -> CheckSpec:
    """One HTTP check; failure_threshold and the rest left at their defaults."""
    path.write_text(
        f'[monitor]\ninterval = "{interval:g}s"\n\n[[monitor.checks]]\nname = "{CHECK}"\n'
        f'kind = "http"\nurl = "http://127.0.0.1:{port}/c/0"\nserver = "bench-host"\n'
        'impact = "no new orders"\n'
    )
    with path.open("rb") as f:
        return monitor_settings(tomllib.load(f)["monitor"]).checks[0]


def the_page(sandbox: Sandbox, seen: set[str]) -> dict[str, Any] | None:
    for message in sandbox.critical():
        if message["id"] in seen:
            continue
        titles = [e.get("title", "") for e in message.get("embeds", [])]
        if any("Service Down" in t and CHECK in t for t in titles):
            return message
    return None


def start_engine(env: dict[str, str], tmp: Path, index: int) -> list[subprocess.Popen[bytes]]:
    procs = [
        spawn(herald("dispatch", "--name", f"bench-{index}"), env, tmp / f"dispatch-{index}.log"),
        spawn(
            herald("worker", "-n", "1", "--name", f"bench-{os.getpid()}-{index}"),
            env,
            tmp / f"worker-{index}.log",
        ),
    ]

    def ready() -> bool:
        for proc in procs:
            if proc.poll() is not None:
                raise RuntimeError(f"engine process exited with {proc.returncode}; see {tmp}")
        s = status(env)
        return bool(s) and s["workers_alive"] >= 1 and s["dispatchers_alive"] >= 1

    wait_until(ready, 60, "the dispatcher and the worker", interval=0.2)
    return procs


def one_page_run(
    index: int, cfg: dict[str, Any], tmp: Path, sandbox: Sandbox, rng: random.Random
) -> dict[str, Any]:
    load_start = os.getloadavg()[0]
    server = start_redis(tmp, f"page-redis-{index}")
    target, (port,) = start_targets(tmp, 1, f"page-target-{index}")
    env = sandbox.env(server.url)
    check = page_config(tmp / f"page-{index}.toml", port, cfg["page_interval"])
    seen = {m["id"] for m in sandbox.critical()}
    procs: list[subprocess.Popen[bytes]] = []
    try:
        procs = start_engine(env, tmp, index)
        config = str(tmp / f"page-{index}.toml")
        procs.append(
            spawn(herald("monitor", "--config", config), env, tmp / f"monitor-{index}.log")
        )
        result = outage(cfg, check, env, target, sandbox, seen, rng, server)
    finally:
        for proc in reversed(procs):
            stop(proc)
        stop(target)
        stop_redis(server)
    result.update(run=index, load1=[round(load_start, 2), round(os.getloadavg()[0], 2)])
    result["code"] = code_state()
    return result


def outage(
    cfg: dict[str, Any],
    check: CheckSpec,
    env: dict[str, str],
    target: subprocess.Popen[bytes],
    sandbox: Sandbox,
    seen: set[str],
    rng: random.Random,
    server: RedisServer,
) -> dict[str, Any]:
    """Wait for the check to be up, take the target down at a random phase, time the page."""
    interval = check.interval_s
    shown: dict[str, Any] = {}

    def up() -> bool:
        shown.update(status(env))
        return bool(shown.get("checks")) and shown["checks"][0]["state"] == "up"

    wait_until(up, 30 + 3 * interval, f"{CHECK} up in `herald status`", interval=0.3)
    last_at = shown["checks"][0]["last_at"]
    phase = cfg["phase"] if cfg["phase"] is not None else rng.uniform(0, interval)
    kill_at = last_at + phase
    while kill_at < time.time() + 0.05:
        kill_at += interval
    sleep_until(kill_at)
    killed = time.time()
    os.kill(target.pid, signal.SIGSTOP if cfg["outage"] == "stop" else signal.SIGKILL)
    deadline = check.failure_threshold * interval + check.timeout_s + 60
    page: dict[str, Any] = {}

    def paged() -> bool:
        page.update(the_page(sandbox, seen) or {})
        return bool(page)

    wait_until(paged, deadline, f"the {CHECK} page in #{CRITICAL_ALERTS}", interval=0.2)
    page_at = datetime.fromisoformat(page["timestamp"]).timestamp()
    published = event_id_millis(footer_id(page)) / 1000
    client = server.client()
    memory = msgspec.json.decode(client.hget(keyspace.MONITOR_MEMORY, CHECK) or b"{}", type=Memory)
    client.close()
    first_fail = memory.down_since or memory.since
    return {
        "interval_s": interval,
        "failure_threshold": check.failure_threshold,
        "timeout_s": round(check.timeout_s, 3),
        "outage": cfg["outage"],
        "phase_s": round((killed - last_at) % interval, 3),
        "to_page_s": round(page_at - killed, 3),
        "kill_to_first_failed_probe_s": round(first_fail - killed, 3),
        "first_to_last_failed_probe_s": round(memory.since - first_fail, 3),
        "last_failed_probe_to_publish_s": round(published - memory.since, 3),
        "publish_to_page_s": round(page_at - published, 3),
        "state_after": memory.state.value,
        "goal_s": check.failure_threshold * interval + PAGE_SLACK_S,
    }


def footer_id(message: dict[str, Any]) -> str:
    """The event id in the page's embed footer (`... · <id>`): when it was published."""
    return str(message["embeds"][0]["footer"]["text"].rsplit(" · ", 1)[-1])


def bench_page(cfg: dict[str, Any], tmp: Path) -> dict[str, Any]:
    rng = random.Random(cfg["seed"])
    sandbox = Sandbox(tmp)
    runs = []
    try:
        for index in range(1, cfg["page_runs"] + 1):
            run = one_page_run(index, cfg, tmp, sandbox, rng)
            print(f"  page run {index}: {run}", file=sys.stderr, flush=True)
            runs.append(run)
    finally:
        sandbox.close()
    times = [run["to_page_s"] for run in runs]
    return {
        "runs": runs,
        "median_s": round(statistics.median(times), 3),
        "max_s": max(times),
        "goal_s": runs[0]["goal_s"],
    }


# -- report --------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "met" if ok else "**MISSED**"


def report_load(load: dict[str, Any]) -> list[str]:
    out = [
        "### Load: one `herald monitor` process",
        "",
        "| run | checks | ports | interval | rounds | window s | monitor CPU s | monitor CPU % "
        "of one core | worst probe-start drift ms | metric: starts, mean ms, max ≤ s | "
        "missing | not up | monitor warnings | targets CPU % | redis CPU % | RSS MB | "
        "load1 start/end |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for run in load["runs"]:
        m = run["drift_metric"]
        out.append(
            f"| {run['run']} | {run['checks']} | {run['ports']} | {run['interval_s']:g} s | "
            f"{run['rounds']} | {run['window_s']} | {run['cpu_s']['monitor']} | "
            f"{run['cpu_pct']['monitor']} | {run['worst_drift_ms']} | "
            f"{m['starts']}, {m['mean_ms']}, {m['max_le_s']} | {run['missing']} | "
            f"{run['not_up']} | {run['warnings']} | {run['cpu_pct']['targets']} | "
            f"{run['cpu_pct']['redis']} | "
            f"{run['rss_mb']} | {run['load1'][0]} / {run['load1'][1]} |"
        )
    out += [
        "",
        "#### Per round",
        "",
        "| run | round | checks sampled | CPU s | CPU % | drift p50 ms | drift max ms | "
        "start spread ms | round done ms | latency p50 ms | latency max ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in load["runs"]:
        for x in run["per_round"]:
            out.append(
                f"| {run['run']} | {x['round']} | {x['sampled']} | {x['cpu_s']} | {x['cpu_pct']} "
                f"| {x['drift_p50_ms']} | {x['drift_max_ms']} | {x['spread_ms']} | "
                f"{x['done_ms']} | {x['latency_p50_ms']} | {x['latency_max_ms']} |"
            )
    cpu_ok = load["cpu_pct_max"] < CPU_GOAL_PCT
    worst = load["worst_drift_ms_max"]  # None: no round seen at all (all missing)
    drift_ok = worst is not None and worst < 1000 * DRIFT_GOAL_S
    out += [
        "",
        "| figure | median of runs | max of runs | goal |",
        "|---|---:|---:|---|",
        f"| monitor CPU % of one core | {load['cpu_pct_median']} | {load['cpu_pct_max']} | "
        f"< {CPU_GOAL_PCT:g} %: {verdict(cpu_ok)} |",
        f"| worst probe-start drift ms | {load['worst_drift_ms_median']} | "
        f"{load['worst_drift_ms_max']} | < {DRIFT_GOAL_S * 1000:g} ms: {verdict(drift_ok)} |",
    ]
    return out


def report_page(page: dict[str, Any]) -> list[str]:
    out = [
        "### Page: target down → Service Down in #critical-alerts",
        "",
        "| run | outage | interval | failure_threshold | phase s | kill → first failed probe s "
        "| → last failed probe s | → page published s | → in the sandbox s | **kill → page s** "
        "| load1 start/end |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for run in page["runs"]:
        out.append(
            f"| {run['run']} | {run['outage']} | {run['interval_s']:g} s | "
            f"{run['failure_threshold']} | {run['phase_s']} | "
            f"{run['kill_to_first_failed_probe_s']} | {run['first_to_last_failed_probe_s']} | "
            f"{run['last_failed_probe_to_publish_s']} | {run['publish_to_page_s']} | "
            f"**{run['to_page_s']}** | "
            f"{run['load1'][0]} / {run['load1'][1]} |"
        )
    ok = page["max_s"] <= page["goal_s"]
    out += [
        "",
        "| figure | median | max | goal |",
        "|---|---:|---:|---|",
        f"| kill → page s | {page['median_s']} | {page['max_s']} | ≤ {page['goal_s']:g} s: "
        f"{verdict(ok)} |",
    ]
    return out


def machine() -> dict[str, Any]:
    cpu = platform.processor() or "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    redis_version = subprocess.run(
        ["redis-server", "--version"], capture_output=True, text=True, check=False
    ).stdout.split(" sha=")[0]
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "redis": redis_version.strip(),
        "code": code_state(),
        "load_start": [round(x, 2) for x in os.getloadavg()],
        "started_utc": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def code_state() -> str:
    """The commit, and a digest of uncommitted changes to the code the bench runs: the
    monitor is started afresh per run, so a change in between would show here."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, check=False)
        return done.stdout.decode(errors="replace")

    commit = git("describe", "--always", "--dirty", "--exclude", "*").strip() or "unknown"
    digest = hashlib.sha1(git("diff", "HEAD", "--", *CODE_PATHS).encode())
    new = git("ls-files", "--others", "--exclude-standard", "--", *CODE_PATHS).split()
    for name in sorted(new):  # files not yet committed: `git diff` leaves them out
        digest.update(name.encode() + (ROOT / name).read_bytes())
    changed = git("status", "--porcelain", "--", *CODE_PATHS).strip()
    return f"{commit} + changes {digest.hexdigest()[:10]}" if changed else commit


# -- main ----------------------------------------------------------------------------------


def parse(argv: list[str] | None) -> tuple[argparse.Namespace, dict[str, Any]]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="20 checks at 1 s for 5 s; 1 s pages")
    p.add_argument("--json", type=Path, help="write every run's figures here")
    p.add_argument("--only", action="append", choices=["load", "page"], help="repeatable")
    p.add_argument("--runs", type=int, help="load runs (default 3)")
    p.add_argument("--checks", type=int, help="HTTP checks (default 500)")
    p.add_argument("--ports", type=int, help="target ports the checks spread over (default 10)")
    p.add_argument("--interval", type=float, help="load: check interval s (default 30)")
    p.add_argument("--rounds", type=int, help="load: rounds measured after round 0 (default 10)")
    p.add_argument("--page-runs", type=int, help="outages (default 3)")
    p.add_argument("--page-interval", type=float, help="page: check interval s (default 30)")
    p.add_argument("--outage", choices=["kill", "stop"], default="kill",
                   help="kill: SIGKILL the target (dead); stop: SIGSTOP it (hung)")  # fmt: skip
    p.add_argument("--seed", type=int, default=1, help="phase of each outage in the interval")
    p.add_argument(
        "--phase", type=float, help="page: kill this long after a probe (default: random)"
    )
    p.add_argument(
        "--profile", metavar="PATH", help="load: run the monitor under cProfile, to PATH.<run> "
        "(diagnosis only: the figures of such a run are not comparable)",
    )  # fmt: skip
    p.add_argument("--max-seconds", type=float, help="watchdog: kill everything and exit 3")
    args = p.parse_args(argv)
    cfg = dict(QUICK if args.quick else FULL)
    for key in list(cfg):
        value = getattr(args, key, None)
        if value is not None:
            if value <= 0:
                p.error(f"--{key.replace('_', '-')} must be positive")
            cfg[key] = value
    if cfg["ports"] > cfg["checks"]:
        p.error("--ports must not exceed --checks")
    if args.phase is not None and not 0 <= args.phase < cfg["page_interval"]:
        p.error("--phase must be at least 0 and shorter than the page interval")
    cfg.update(outage=args.outage, seed=args.seed, phase=args.phase, profile=args.profile)
    cfg["only"] = args.only or ["load", "page"]
    return args, cfg


def budget(cfg: dict[str, Any]) -> float:
    """Seconds the run should take, generously: the watchdog's default."""
    load = cfg["runs"] * ((cfg["rounds"] + 3) * cfg["interval"] + 40)
    page = cfg["page_runs"] * (5 * cfg["page_interval"] + 60)
    return float(1.5 * (load * ("load" in cfg["only"]) + page * ("page" in cfg["only"])) + 60)


def start_watchdog(seconds: float) -> threading.Timer:
    def fire() -> None:
        print(f"monitor_bench: over --max-seconds={seconds:g}; stopping", file=sys.stderr)
        kill_everything()
        os._exit(3)

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    signal.signal(signal.SIGTERM, lambda *_: fire())
    return timer


def run_phases(cfg: dict[str, Any], tmp: Path, results: dict[str, Any]) -> None:
    try:
        if "load" in cfg["only"]:
            print("== load", file=sys.stderr, flush=True)
            results["load"] = bench_load(cfg, tmp)
        if "page" in cfg["only"]:
            print("== page", file=sys.stderr, flush=True)
            results["page"] = bench_page(cfg, tmp)
    except BaseException:
        for logfile in sorted(tmp.glob("*.log")):
            tail = logfile.read_text(errors="replace")[-1500:]
            if tail.strip():
                print(f"--- {logfile.name}\n{tail}", file=sys.stderr)
        raise
    finally:
        kill_everything()


def main(argv: list[str] | None = None) -> int:
    args, cfg = parse(argv)
    if shutil.which("redis-server") is None:
        print("monitor_bench: redis-server not found on PATH", file=sys.stderr)
        return 2
    timer = start_watchdog(args.max_seconds or budget(cfg))
    command = " ".join(shlex.quote(a) for a in [os.path.relpath(sys.executable), *sys.argv])
    results: dict[str, Any] = {"machine": machine(), "config": cfg, "command": command}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="monitor-bench-") as name:
        run_phases(cfg, Path(name), results)
    timer.cancel()
    results["machine"]["load_end"] = [round(x, 2) for x in os.getloadavg()]
    results["elapsed_s"] = round(time.monotonic() - started, 1)
    m = results["machine"]
    lines = [
        f"Machine: {m['nproc']} CPUs, {m['cpu']}, Python {m['python']}, {m['redis']}, "
        f"code {m['code']}",
        f"Command: {command}  ({results['elapsed_s']} s; load {m['load_start']} → {m['load_end']})",
        "",
    ]
    if "load" in results:
        lines += [*report_load(results["load"]), ""]
    if "page" in results:
        lines += report_page(results["page"])
    codes = {
        run["code"] for part in ("load", "page") for run in results.get(part, {}).get("runs", [])
    }
    if len(codes) > 1:
        lines += ["", f"**The code changed between runs**: {sorted(codes)} (see each run's `code`)"]
    print("\n".join(lines))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
