"""The probes that look at this host: a process, a systemd unit, a command's exit code.

Commands run without a shell, in their own process group, and are killed with the whole
group at the deadline, so a hung check script leaves nothing behind. Only the tail of
their output is kept (a chatty command cannot fill memory). Process scans read /proc,
so they run in a thread and never stall the event loop.
"""

import asyncio
import contextlib
import os
import shutil
import signal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import psutil

from monitor.outcome import Outcome, safe, seconds
from monitor.settings import CheckSpec

TAIL_BYTES: Final = 4096
"""Of each of a command's stdout and stderr, the last this many bytes are kept."""
REAP_S: Final = 1.0
"""How long to wait for a killed command to be reaped."""
NO_SYSTEMCTL: Final = "systemctl not found: systemd checks need systemd"


@dataclass(frozen=True, slots=True)
class Finished:
    code: int | None
    """Exit code (negative: killed by that signal); None when killed at the deadline."""
    stdout: bytes
    stderr: bytes


async def run_bounded(argv: Sequence[str], timeout_s: float) -> Finished:
    """Run `argv` (no shell) for at most `timeout_s`, then kill its process group."""
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    out, err = bytearray(), bytearray()
    try:
        async with asyncio.timeout(timeout_s):
            await asyncio.gather(_tail(proc.stdout, out), _tail(proc.stderr, err), proc.wait())
    except TimeoutError:
        running = proc.returncode is None
        _kill_group(proc.pid)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(REAP_S):
                await proc.wait()
        return Finished(None if running else proc.returncode, bytes(out), bytes(err))
    except BaseException:
        _kill_group(proc.pid)  # cancelled from outside: still leave nothing running
        raise
    return Finished(proc.returncode, bytes(out), bytes(err))


async def _tail(stream: asyncio.StreamReader | None, into: bytearray) -> None:
    while stream is not None and (chunk := await stream.read(65536)):
        into += chunk
        del into[:-TAIL_BYTES]


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def last_line(*outputs: bytes) -> str:
    """The last non-blank line of the first output that has one, made safe to show."""
    for output in outputs:
        lines = [line for line in output.decode("utf-8", "replace").splitlines() if line.strip()]
        if lines:
            return safe(lines[-1])
    return ""


def _joined(head: str, line: str) -> str:
    return f"{head}: {line}" if line else head


async def probe_command(check: CheckSpec) -> Outcome:
    """ok iff `argv` exits with `expect_exit` within the timeout."""
    argv = [str(a) for a in check.options["argv"]]
    expect = int(check.options.get("expect_exit", 0))
    try:
        done = await run_bounded(argv, check.timeout_s)
    except FileNotFoundError:
        return Outcome(False, safe(f"command not found: {argv[0]}"), timed=False)
    except PermissionError:
        return Outcome(False, safe(f"not allowed to run {argv[0]}"), timed=False)
    ok = done.code == expect
    # A failure usually explains itself on stderr; a success (or a Nagios-style plugin)
    # on stdout.
    line = last_line(done.stdout, done.stderr) if ok else last_line(done.stderr, done.stdout)
    if done.code is None:
        return Outcome(False, _joined(f"killed after {seconds(check.timeout_s)}", line), False)
    if done.code < 0:
        head = f"killed by {signal.Signals(-done.code).name}"
    else:
        head = f"exit {done.code}" + ("" if ok else f", expected {expect}")
    return Outcome(ok, _joined(head, line))


async def probe_systemd(check: CheckSpec) -> Outcome:
    """ok iff `systemctl is-active UNIT` prints `active`."""
    systemctl = shutil.which("systemctl")
    if systemctl is None:
        return Outcome(False, NO_SYSTEMCTL, timed=False)
    unit = str(check.options["unit"])
    done = await run_bounded([systemctl, "is-active", "--", unit], check.timeout_s)
    if done.code is None:
        return Outcome(False, f"systemctl killed after {seconds(check.timeout_s)}", False)
    state = last_line(done.stdout)
    if state == "active":
        return Outcome(True, "active")
    if state:
        return Outcome(False, safe(f"{unit} is {state}"))
    # No state at all: systemctl itself failed (no systemd as PID 1, no bus): its first
    # line says why.
    said = done.stderr.decode("utf-8", "replace").strip().splitlines()
    return Outcome(False, safe(f"systemctl: {said[0] if said else f'exit {done.code}'}"))


async def probe_process(check: CheckSpec) -> Outcome:
    """By pid file (and, if also given, that pid must carry `process_name`, which
    catches a stale pid file whose pid was reused), or by name alone."""
    return await asyncio.to_thread(_process, check.options)


def _process(options: Mapping[str, Any]) -> Outcome:
    name = options.get("process_name")
    if options.get("pid_file"):
        return _by_pid_file(Path(str(options["pid_file"])), str(name) if name else None)
    return _by_name(str(name))


def _by_pid_file(path: Path, name: str | None) -> Outcome:
    pid = _read_pid(path)
    if isinstance(pid, Outcome):
        return pid
    try:
        info = psutil.Process(pid).as_dict(["name", "cmdline", "status"])
    except psutil.NoSuchProcess:
        return Outcome(False, safe(f"pid {pid} (from {path}) is not running"))
    if info["status"] == psutil.STATUS_ZOMBIE:
        return Outcome(False, f"pid {pid} is a zombie (exited, not reaped)")
    if name and not _named(info, name):
        return Outcome(False, safe(f"pid {pid} (from {path}) is {info['name']}, not {name}"))
    return Outcome(True, f"pid {pid}")


def _read_pid(path: Path) -> int | Outcome:
    """The pid a pid file holds (its first word), or why there is none."""
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        return Outcome(False, safe(f"no pid file {path}"))
    except OSError as exc:
        return Outcome(False, safe(f"cannot read {path}: {exc.strerror}"))
    first = text.split()[0] if text else ""
    if not first.isdigit() or int(first) <= 0:
        return Outcome(False, safe(f"{path} holds {text[:40]!r}, not a pid"))
    return int(first)


def _by_name(name: str) -> Outcome:
    pids = [
        p.pid
        for p in psutil.process_iter(["name", "cmdline", "status"])
        if p.info["status"] != psutil.STATUS_ZOMBIE and _named(p.info, name)
    ]
    if not pids:
        return Outcome(False, safe(f"no process named {name}"))
    listed = ", ".join(str(pid) for pid in sorted(pids)[:5])
    return Outcome(True, f"pid {listed}" + (f" (+{len(pids) - 5})" if len(pids) > 5 else ""))


def _named(info: Mapping[str, Any], name: str) -> bool:
    """Its name, or its command's basename (`/usr/sbin/nginx` runs as `nginx`; a name
    longer than Linux's 15-character comm shows in full only there)."""
    cmdline = info.get("cmdline") or []
    return info.get("name") == name or bool(cmdline and os.path.basename(cmdline[0]) == name)
