"""Run Herald's dispatcher and worker pool under supervisord, from one template.

`herald up`, the chaos suite and production all use `render`; deploy/supervisord.conf
is its production rendering (a test keeps the two equal).
"""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import xmlrpc.client
from dataclasses import dataclass
from http.client import HTTPConnection
from importlib.resources import files
from pathlib import Path
from string import Template
from typing import Any

from herald.errors import HeraldError
from herald.proc import die_with_parent
from herald.testing import wait_until

TEMPLATE = files("herald").joinpath("templates/supervisord.conf.tmpl")


@dataclass(frozen=True)
class Layout:
    run_dir: str
    """Where supervisord keeps its socket, pid file and the programs' logs."""
    herald: str = "herald"
    """The command that runs Herald (a path to the virtualenv's `herald`)."""
    workers: int = 6
    dispatch_flags: str = ""
    worker_flags: str = ""


def render(layout: Layout) -> str:
    if layout.workers < 1:
        raise HeraldError("supervisord needs at least one worker process")
    return Template(TEMPLATE.read_text()).substitute(
        run_dir=layout.run_dir,
        herald=layout.herald,
        workers=layout.workers,
        dispatch_flags=layout.dispatch_flags,
        worker_flags=layout.worker_flags,
    )


PRODUCTION = Layout(
    run_dir="/var/log/herald",
    herald="/opt/herald/.venv/bin/herald",
    workers=6,
    dispatch_flags="--metrics-port 9108",
    worker_flags="--metrics-port 9110 --metrics-port-offset %(process_num)s",
)
"""The rendering committed as deploy/supervisord.conf."""


class _UnixHTTPConnection(HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("localhost")
        self._path = path

    def connect(self) -> None:
        import socket

        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(self._path)
        self.sock = sock


class _UnixTransport(xmlrpc.client.Transport):
    def __init__(self, path: str) -> None:
        super().__init__()
        self._path = path

    def make_connection(self, host: Any) -> HTTPConnection:
        return _UnixHTTPConnection(self._path)


class Supervisor:
    """A supervisord child process running the rendered config, with its XML-RPC API."""

    def __init__(self, layout: Layout, env: dict[str, str]) -> None:
        self.layout = layout
        self.env = env
        self.run_dir = Path(layout.run_dir)
        self.conf = self.run_dir / "supervisord.conf"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def rpc(self) -> Any:
        transport = _UnixTransport(str(self.run_dir / "supervisor.sock"))
        return xmlrpc.client.ServerProxy("http://localhost", transport=transport).supervisor

    def start(self, timeout: float = 30.0) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.conf.write_text(render(self.layout))
        binary = shutil.which("supervisord", path=str(Path(sys.executable).parent)) or "supervisord"
        out = open(self.run_dir / "supervisord.out", "ab")  # noqa: SIM115 - the child owns it
        self.process = subprocess.Popen(
            [binary, "-c", str(self.conf), "-n"],
            env=self.env,
            stdout=out,
            stderr=out,
            start_new_session=True,
            preexec_fn=die_with_parent,  # noqa: PLW1509 - no orphans if our parent is killed
        )
        wait_until(self.all_running, timeout, "supervisord programs RUNNING", interval=0.2)

    def states(self) -> dict[str, str]:
        """Program name -> supervisord state (RUNNING, STARTING, BACKOFF, ...)."""
        try:
            return {_name(p): p["statename"] for p in self.rpc.getAllProcessInfo()}
        except (OSError, xmlrpc.client.Fault):
            return {}

    def pids(self) -> dict[str, int]:
        return {_name(p): p["pid"] for p in self.rpc.getAllProcessInfo() if p["pid"]}

    def all_running(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            code = self.process.returncode
            raise HeraldError(f"supervisord exited with {code}; see {self.run_dir}")
        states = self.states()
        return bool(states) and all(s == "RUNNING" for s in states.values())

    def stop(self, timeout: float = 60.0) -> None:
        """SIGTERM supervisord: it stops every program (they finish requests in flight)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None


def _name(info: dict[str, Any]) -> str:
    return f"{info['group']}:{info['name']}"
