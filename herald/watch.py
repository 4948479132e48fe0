"""The live view of `herald up`: the `herald status` screen, refreshed in place."""

from typing import Self

import redis
from rich.console import Console, RenderableType
from rich.live import Live

from worker.config import Settings
from worker.status import collect
from worker.status_view import render


class Watcher:
    """Shows `worker.status` in a rich Live panel (or, with live=False, nothing)."""

    def __init__(
        self, client: redis.Redis, settings: Settings, *, live: bool, console: Console
    ) -> None:
        self.client = client
        self.settings = settings
        self.console = console
        self._live = Live(console=console, refresh_per_second=2, transient=False) if live else None

    def __enter__(self) -> Self:
        if self._live is not None:
            self._live.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._live is not None:
            self._live.stop()

    def refresh(self) -> None:
        if self._live is not None:
            self._live.update(render(collect(self.client, self.settings)))

    def show(self, renderable: RenderableType) -> None:
        """Print something permanent above the live view."""
        self.console.print(renderable)
