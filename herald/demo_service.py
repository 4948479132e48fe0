"""The small service `herald up --demo` lets the monitor watch, then takes down and
brings back, so a person sees a real page, its recovery and the health summaries."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Final

from ground.proc import free_port

NAME: Final = "demo-api"


class _Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"status": "ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the live view owns the terminal."""


class DemoService:
    """`GET /health` on 127.0.0.1, in a thread; `stop()` and `start()` kill and revive it."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/health"

    def start(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), _Health)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name=NAME, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

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
