"""`herald up`: the README's main job, run non-interactively, stopped with Ctrl-C."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ground.proc import wait_until

pytestmark = pytest.mark.usefixtures("port_6379")  # herald up takes 6379 when free

HERALD = str(Path(sys.executable).with_name("herald"))


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("HERALD_")}


def run_demo(state: Path, report: Path) -> dict:
    done = subprocess.run(
        [HERALD, "up", "--demo", "--exit-after-demo", "--no-live", "--state-dir", str(state),
         "--sandbox-port", "0", "--workers", "3", "--burst-trades", "60", "--burst-ticks", "1500",
         "--pace", "0", "--report-json", str(report)],
        env=clean_env(), capture_output=True, text=True, timeout=300, cwd=state.parent,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "every event accounted for" in done.stdout
    assert "sandbox-token" not in done.stdout + done.stderr
    return json.loads(report.read_text())


def test_demo_accounts_for_every_event_and_a_second_run_keeps_the_data(tmp_path):
    state = tmp_path / ".herald"
    first = run_demo(state, tmp_path / "r1.json")
    assert first["missing"] == 0
    assert first["rate_limited"] == 0
    assert first["bad_requests"] == 0
    assert (
        first["delivered"] + first["digested"] + first["folded"] + first["dead_lettered"]
        == (first["published"])
    )
    assert first["folded"] >= 30  # the flapping service and the exchange retries
    assert first["digested"] > 0  # the market burst became digests
    assert first["requests"] < first["published"] / 5  # coalescing
    assert first["critical_p50_ms"] is not None  # the pages were delivered and timed
    second = run_demo(state, tmp_path / "r2.json")
    assert second["missing"] == 0
    # Redis came back from its AOF: the engine's lifetime count includes the first run (and
    # the monitor's own pages and summaries, a handful, so at least both runs' events).
    total = first["published"] + second["published"]
    assert total <= second["events_in_total"] < total + 100


def descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(proc.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_ctrl_c_leaves_no_process_behind(tmp_path):
    state = tmp_path / ".herald"
    log = (tmp_path / "up.log").open("wb")
    proc = subprocess.Popen(
        [HERALD, "up", "--no-live", "--state-dir", str(state), "--sandbox-port", "0",
         "--workers", "2"],
        env=clean_env(), stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path,
    )  # fmt: skip
    try:
        # redis-server, the sandbox, supervisord and its 3 programs
        wait_until(lambda: len(descendants(proc.pid)) >= 6, 60, "the whole stack to start")
        wait_until((state / "redis.url").exists, 10, "the redis URL file")
        tree = descendants(proc.pid)
        status = subprocess.run([HERALD, "status", "--json"], env=clean_env(), cwd=tmp_path,
                                capture_output=True, text=True, timeout=30)  # fmt: skip
        assert status.returncode == 0, status.stdout + status.stderr  # found via .herald/redis.url
        proc.send_signal(signal.SIGINT)
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    wait_until(lambda: not any(alive(p) for p in tree), 10, "every child to exit")
    assert not (state / "redis.url").exists()
