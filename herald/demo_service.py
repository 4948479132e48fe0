"""The small service `herald up --demo` lets the monitor watch, then takes down and
brings back, so a person sees a real page, its recovery and the health summaries.

The demo's bot may `/restart demo-api` too: the service runs inside `herald up`, so the
bot's configured argv (`restart_argv`) asks it over loopback (`POST /restart`) and hands
every other name to `supervisorctl`. `GET /health` says when it last started, so the
restart can be seen.
"""

import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Final

import httpx

from ground.proc import free_port

NAME: Final = "demo-api"
RESTART_TIMEOUT_S: Final = 10.0


class _Health(BaseHTTPRequestHandler):
    server: "_Server"

    def do_GET(self) -> None:
        self._answer(200, {"status": "ok", "started": self.server.started})

    def do_POST(self) -> None:
        if self.path != "/restart":
            self._answer(404, {"error": "POST /restart is the only action"})
            return
        done = threading.Event()
        owner = self.server.owner

        def restart() -> None:  # not in this thread: it is one of the server's own
            owner.restart()
            done.set()

        threading.Thread(target=restart, daemon=True).start()
        done.wait(RESTART_TIMEOUT_S)
        self._answer(200 if done.is_set() else 504, {"started": owner.started})

    def _answer(self, status: int, answer: dict[str, object]) -> None:
        body = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the live view owns the terminal."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: "DemoService"
    started: float


class DemoService:
    """`GET /health` on 127.0.0.1, in a thread; `stop()` and `start()` kill and revive it."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self._server: _Server | None = None
        self._lock = threading.Lock()
        self.started = 0.0
        """Epoch seconds of the last start (0: never started)."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/health"

    @property
    def restart_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/restart"

    def start(self) -> None:
        self._server = _Server(("127.0.0.1", self.port), _Health)
        self.started = self._server.started = time.time()
        self._server.owner = self
        threading.Thread(target=self._server.serve_forever, name=NAME, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def restart(self) -> None:
        with self._lock:  # two restarts at once must not both bind the port
            self.stop()
            self.start()

    def write_config(self, path: Path) -> Path:
        """A herald.toml whose monitor watches this service every second."""
        path.write_text(
            "# Written by `herald up --demo`: the monitor watches the demo's service.\n"
            "[monitor]\n"
            'interval = "1s"\n'
            'summary_every = "1m"\n\n'
            "[[monitor.checks]]\n"
            f'name = "{NAME}"\n'
            'kind = "http"\n'
            f'url = "{self.url}"\n'
            'server = "demo-host"\n'
            'impact = "the demo\'s order API is not answering"\n'
            'latency_warn = "250ms"\n'
        )
        return path


def restart_argv(restart_url: str, others: list[str]) -> list[str]:
    """The demo bot's /restart command: `demo-api` through `restart_url`, any other
    service by `others` (an argv ending in `{service}`, e.g. supervisorctl restart)."""
    return [sys.executable, "-m", "herald.demo_service", restart_url, *others]


def main(argv: list[str]) -> int:
    """`python -m herald.demo_service RESTART_URL ARGV... SERVICE` (see `restart_argv`)."""
    if len(argv) < 3:
        print("usage: python -m herald.demo_service RESTART_URL ARGV... SERVICE", file=sys.stderr)
        return 2
    restart_url, others = argv[0], argv[1:]
    if others[-1] != NAME:
        os.execv(others[0], others)  # noqa: S606 (a configured argv, not a shell line)
    try:
        answer = httpx.post(restart_url, timeout=RESTART_TIMEOUT_S + 5)
    except httpx.HTTPError as exc:
        print(f"{NAME} did not answer: {type(exc).__name__}", file=sys.stderr)
        return 1
    if answer.status_code != 200:
        print(f"{NAME} did not restart: HTTP {answer.status_code}", file=sys.stderr)
        return 1
    print(f"{NAME} restarted (up since {answer.json()['started']:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
