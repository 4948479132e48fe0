"""Run Herald's dispatcher and worker pool under supervisord, from one template.

`herald up`, the chaos suite, production and `herald worker -n N` all use `render`;
deploy/supervisord.conf is its production rendering (a test keeps the two equal).
`herald up` and the chaos suite run supervisord as a child (`Supervisor`);
`herald worker -n N` becomes supervisord (`exec_pool`), so that signals reach it directly.
"""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import xmlrpc.client
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from string import Template
from typing import Any, NoReturn

from supervisor.xmlrpc import SupervisorTransport

from ground.errors import HeraldError
from ground.proc import die_with_parent, wait_until

TEMPLATE = files("herald").joinpath("templates/supervisord.conf.tmpl")
DISPATCH_SECTION = "[program:dispatch]"
MONITOR_SECTION = "[program:monitor]"
BOOKS_SECTION = "[program:books]"
BOT_SECTION = "[program:bot]"


@dataclass(frozen=True)
class Layout:
    run_dir: str
    """Where supervisord keeps its socket, pid file and the programs' logs."""
    herald: str = "herald"
    """The command that runs Herald (a path to the virtualenv's `herald`)."""
    workers: int = 6
    dispatch_flags: str = ""
    worker_flags: str = ""
    monitor_flags: str = ""
    bot_flags: str = "--host 127.0.0.1 --port 8790"
    bot_autostart: bool | None = None
    """The bot needs its Discord application configured: None leaves `[program:bot]` out
    (`herald up`), False writes it stopped (production: started once `[bot]` is set), True
    starts it (`herald up --demo`)."""
    dispatcher: bool = True
    """False: only the worker pool (`herald worker -n N`; the dispatcher, the monitor and
    the books run elsewhere)."""
    worker_logs_to_stdout: bool = False
    """True: the workers' output goes to supervisord's stdout (a terminal, `docker logs`)
    instead of a file per worker in `run_dir`."""


def render(layout: Layout) -> str:
    if layout.workers < 1:
        raise HeraldError("supervisord needs at least one worker process")
    if layout.worker_logs_to_stdout:  # /dev/stdout cannot be rotated: maxbytes 0
        worker_log, maxbytes = "/dev/stdout", "0"
    else:
        worker_log, maxbytes = f"{layout.run_dir}/%(program_name)s-%(process_num)02d.log", "50MB"
    text = Template(TEMPLATE.read_text()).substitute(
        run_dir=layout.run_dir,
        herald=layout.herald,
        workers=layout.workers,
        dispatch_flags=layout.dispatch_flags,
        worker_flags=layout.worker_flags,
        monitor_flags=layout.monitor_flags,
        bot_flags=layout.bot_flags,
        bot_autostart=str(bool(layout.bot_autostart)).lower(),
        worker_log=worker_log,
        worker_log_maxbytes=maxbytes,
    )
    if layout.bot_autostart is None or not layout.dispatcher:
        text = _without_section(text, BOT_SECTION)
    if layout.dispatcher:
        return text
    for section in (DISPATCH_SECTION, MONITOR_SECTION, BOOKS_SECTION):
        text = _without_section(text, section)
    return text


def _without_section(text: str, header: str) -> str:
    """`text` minus the section that starts with the line `header` (up to the next one)."""
    start = text.index(f"\n{header}\n") + 1
    end = text.find("\n[", start)
    return text[:start] + (text[end + 1 :] if end != -1 else "")


PRODUCTION = Layout(
    run_dir="/var/log/herald",
    herald="/opt/herald/.venv/bin/herald",
    workers=6,
    dispatch_flags="--metrics-port 9108",
    worker_flags="--metrics-port 9110 --metrics-port-offset %(process_num)s",
    monitor_flags="--metrics-port 9109",
    bot_autostart=False,
)
"""The rendering committed as deploy/supervisord.conf."""


def write_conf(layout: Layout) -> Path:
    """Render `layout` into `run_dir/supervisord.conf` (creating `run_dir`)."""
    run_dir = Path(layout.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    conf = run_dir / "supervisord.conf"
    conf.write_text(render(layout))
    return conf


def supervisord_argv(conf: Path) -> list[str]:
    """supervisord (the virtualenv's, else $PATH's) in the foreground on `conf`."""
    binary = shutil.which("supervisord", path=str(Path(sys.executable).parent)) or shutil.which(
        "supervisord"
    )
    if binary is None:
        raise HeraldError("supervisord not found: install the `supervisor` package")
    return [binary, "-c", str(conf), "-n"]


def exec_pool(layout: Layout) -> NoReturn:
    """Replace this process with supervisord running `layout` in the foreground.

    Being supervisord (same pid), it gets SIGTERM/SIGINT itself: it sends SIGTERM to every
    program and gives each `stopwaitsecs` to finish its request in flight. If it is
    SIGKILLed, its workers get SIGTERM from the kernel (they ask for it when they start).
    """
    argv = supervisord_argv(write_conf(layout))
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(argv[0], argv)  # noqa: S606 - argv is ours, not a shell line


class Supervisor:
    """A supervisord child process running the rendered config, with its XML-RPC API."""

    def __init__(self, layout: Layout, env: dict[str, str]) -> None:
        self.layout = layout
        self.env = env
        self.run_dir = Path(layout.run_dir)
        self.conf = self.run_dir / "supervisord.conf"
        self.process: subprocess.Popen[bytes] | None = None

    def _proxy(self) -> xmlrpc.client.ServerProxy:
        url = f"unix://{self.run_dir / 'supervisor.sock'}"
        transport = SupervisorTransport(None, None, url)
        return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)

    @property
    def rpc(self) -> Any:
        """supervisord's `supervisor.*` XML-RPC namespace, on a new connection."""
        return self._proxy().supervisor

    def start(self, timeout: float = 30.0) -> None:
        argv = supervisord_argv(write_conf(self.layout))
        with open(self.run_dir / "supervisord.out", "ab") as out:
            self.process = subprocess.Popen(
                argv,
                env=self.env,
                stdout=out,
                stderr=out,
                start_new_session=True,
                preexec_fn=die_with_parent,  # noqa: PLW1509 - no orphans if our parent is killed
            )
        wait_until(self.all_running, timeout, "supervisord programs RUNNING", interval=0.2)

    def _process_info(self) -> list[dict[str, Any]]:
        with self._proxy() as proxy:  # closes the connection
            info: Any = proxy.supervisor.getAllProcessInfo()
        return list(info)

    def states(self) -> dict[str, str]:
        """Program name -> supervisord state (RUNNING, STARTING, BACKOFF, ...)."""
        try:
            return {_name(p): p["statename"] for p in self._process_info()}
        except (OSError, xmlrpc.client.Error):
            return {}

    def pids(self) -> dict[str, int]:
        return {_name(p): p["pid"] for p in self._process_info() if p["pid"]}

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
