"""A `redis-server` child process: the embedded Redis of `herald up`.

The integration tests, the chaos suite and the benchmarks start their throwaway
Redis the same way, so what they test is what `herald up` runs.
"""

import contextlib
import os
import shutil
import signal
import subprocess
from pathlib import Path

import redis

from ground.errors import HeraldError
from ground.proc import die_with_parent, free_port, wait_until


class RedisServer:
    """A `redis-server` child process with its data (AOF on) in `data_dir`."""

    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        *,
        appendonly: bool = True,
        detached: bool = False,
    ) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise HeraldError(
                "redis-server not found on PATH: install it (apt-get install redis-server)"
            )
        self.binary = binary
        self.data_dir = data_dir
        self.port = port or free_port()
        self.appendonly = appendonly
        self.detached = detached
        """In its own session (a terminal's Ctrl-C reaches only the parent) and dying with
        the parent: how `herald up` runs it."""
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=5)

    def start(self, timeout: float = 10.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [
            self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
            "--dir", str(self.data_dir), "--save", "",
            "--appendonly", "yes" if self.appendonly else "no", "--appendfsync", "everysec",
            "--daemonize", "no", "--logfile", "redis.log",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            args,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=self.detached,
            preexec_fn=die_with_parent if self.detached else None,  # noqa: PLW1509
        )
        wait_until(self._ready, timeout, f"redis-server on port {self.port}")

    def _ready(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise HeraldError(
                f"redis-server exited with {self.process.returncode}; see {self.data_dir}/redis.log"
            )
        try:
            return bool(self.client().ping())
        except redis.RedisError:
            return False

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGCONT)  # a paused server cannot exit
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def pause(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)
