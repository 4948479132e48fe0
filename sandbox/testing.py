"""Run a sandbox inside a test: `with run_sandbox(webhook_rate="5/2s") as sb: ...`.

The server runs on its own event loop in a background thread on a free port, so a
test can use any HTTP client against it; the handle talks to the admin API over HTTP,
exactly as an operator or a separate process would.
"""

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import fields
from typing import Any

import httpx
from aiohttp import web

from ground.channels import CHANNELS
from ground.rates import Rate, parse_rate
from sandbox.app import start
from sandbox.config import Faults, SandboxConfig
from sandbox.webhooks import Webhook, channel_webhooks, parse_webhook_spec


class SandboxHandle:
    """A running sandbox: its URLs, what it received, and its fault/webhook controls."""

    def __init__(self, base_url: str, config: SandboxConfig) -> None:
        self.base_url = base_url
        self.config = config
        self.client = httpx.Client(base_url=base_url, timeout=10.0)

    def webhook_url(self, channel: str = CHANNELS[0]) -> str:
        """The URL of the first configured webhook posting into `channel`."""
        for hook in self.config.webhooks:
            if hook.channel == channel:
                return f"{self.base_url}{hook.path}"
        raise KeyError(f"no webhook configured for channel {channel!r}; known: {self.channels()}")

    def webhook_urls(self) -> dict[str, str]:
        """The five default Herald channels → URL (what `sandbox.channel_webhooks` returns)."""
        return channel_webhooks(self.base_url)

    def channels(self) -> list[str]:
        return sorted({hook.channel for hook in self.config.webhooks})

    def messages(
        self, channel: str | None = None, since: str | None = None
    ) -> list[dict[str, Any]]:
        """Accepted messages, oldest first: Discord's message object plus `channel_name`."""
        params = {k: v for k, v in (("channel", channel), ("since", since)) if v}
        return list(self._ok(self.client.get("/api/messages", params=params)).json())

    def stats(self) -> dict[str, Any]:
        return dict(self._ok(self.client.get("/admin/stats")).json())

    def set_faults(
        self,
        *,
        fail_rate: float | None = None,
        fail_statuses: tuple[int, ...] | None = None,
        slow_rate: float | None = None,
        slow_seconds: float | None = None,
        drop_rate: float | None = None,
        storm_seconds: float | None = None,
        storm_retry_after: float = 1.0,
        storm_global: bool = False,
        storm_via: bool = True,
        seed: int | None = None,
    ) -> dict[str, Any]:
        """Change faults at run time; only the given ones. `storm_seconds=0` ends a storm."""
        body: dict[str, Any] = {
            key: value
            for key, value in (
                ("fail_rate", fail_rate),
                ("fail_statuses", fail_statuses),
                ("slow_rate", slow_rate),
                ("slow_seconds", slow_seconds),
                ("drop_rate", drop_rate),
                ("seed", seed),
            )
            if value is not None
        }
        if storm_seconds is not None:
            body["storm"] = (
                {
                    "seconds": storm_seconds,
                    "retry_after": storm_retry_after,
                    "global": storm_global,
                    "via": storm_via,
                }
                if storm_seconds > 0
                else {}
            )
        return dict(self._ok(self.client.post("/admin/faults", json=body)).json())

    def set_limits(self, **limits: str | None) -> dict[str, Any]:
        """E.g. `set_limits(webhook="5/2s", channel=None)`; `global_` is accepted for `global`."""
        body = {("global" if k == "global_" else k): v for k, v in limits.items()}
        return dict(self._ok(self.client.post("/admin/limits", json=body)).json())

    def add_webhook(self, webhook_id: str, token: str, channel: str) -> str:
        """Register a webhook (e.g. a second one into a channel) and return its URL."""
        self._ok(
            self.client.post(
                "/admin/webhooks", json={"id": webhook_id, "token": token, "channel": channel}
            )
        )
        hook = Webhook(webhook_id, token, channel)
        self.config.webhooks.append(hook)
        return f"{self.base_url}{hook.path}"

    def delete_webhook(self, channel_or_id: str) -> None:
        """Make a webhook answer 404 Unknown Webhook (by channel name or webhook id)."""
        self._ok(self.client.post(f"/admin/webhooks/{self._webhook_id(channel_or_id)}/delete"))

    def restore_webhook(self, channel_or_id: str) -> None:
        self._ok(self.client.post(f"/admin/webhooks/{self._webhook_id(channel_or_id)}/restore"))

    def reset(self) -> None:
        """Back to the start-up state: no messages, zero counters, fresh limits and faults."""
        self._ok(self.client.post("/admin/reset"))

    def _webhook_id(self, channel_or_id: str) -> str:
        if channel_or_id.isdigit():
            return channel_or_id
        return self.webhook_url(channel_or_id).rsplit("/", 2)[-2]

    @staticmethod
    def _ok(response: httpx.Response) -> httpx.Response:
        if response.is_error:
            raise RuntimeError(f"sandbox admin call failed: {response.status_code} {response.text}")
        return response

    def close(self) -> None:
        self.client.close()


def _rate(value: Rate | str | None) -> Rate | None:
    return parse_rate(value) if isinstance(value, str) else value


def build_config(**options: Any) -> SandboxConfig:
    """A `SandboxConfig` from keyword options; rates may be strings like `"5/2s"`.

    Fault options (`fail_rate`, `slow_rate`, `slow_seconds`, `drop_rate`, `fail_statuses`)
    are accepted flat; `no_limits=True` switches off all three limits; `webhooks` adds
    `Webhook`s or `"ID:TOKEN:CHANNEL"` strings to the five defaults. Port defaults to 0 (free).
    """
    options = dict(options)
    fault_names = {f.name for f in fields(Faults)}
    faults = Faults(**{k: options.pop(k) for k in list(options) if k in fault_names})
    config = SandboxConfig(port=0, faults=faults)
    if options.pop("no_limits", False):
        options.update(webhook_rate=None, channel_rate=None, global_rate=None)
    extra = options.pop("webhooks", [])
    for key in ("webhook_rate", "channel_rate", "global_rate"):
        if key in options:
            setattr(config, key, _rate(options.pop(key)))
    for key, value in options.items():
        if key not in SandboxConfig.__dataclass_fields__:
            raise TypeError(f"run_sandbox got an unknown option {key!r}")
        setattr(config, key, value)
    config.webhooks = config.webhooks + [
        parse_webhook_spec(w) if isinstance(w, str) else w for w in extra
    ]
    return config


class _ServerThread(threading.Thread):
    """Owns the sandbox's event loop; `started` resolves to the base URL or the start error."""

    def __init__(self, config: SandboxConfig) -> None:
        super().__init__(name="herald-sandbox", daemon=True)
        self.config = config
        self.loop = asyncio.new_event_loop()
        self.started: Future[str] = Future()
        self._stop_event: asyncio.Event | None = None

    def run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._main())
        finally:
            self.loop.close()

    async def _main(self) -> None:
        self._stop_event = asyncio.Event()
        runner: web.AppRunner | None = None
        try:
            runner, base_url = await start(self.config)
        except BaseException as exc:
            self.started.set_exception(exc)
            return
        self.started.set_result(base_url)
        try:
            await self._stop_event.wait()
        finally:
            await runner.cleanup()

    def stop(self) -> None:
        if self._stop_event is not None and not self.loop.is_closed():
            with contextlib.suppress(RuntimeError):
                self.loop.call_soon_threadsafe(self._stop_event.set)


@contextlib.contextmanager
def run_sandbox(**options: Any) -> Iterator[SandboxHandle]:
    """Start a sandbox on a free port for the duration of the `with` block (see `build_config`)."""
    config = build_config(**options)
    thread = _ServerThread(config)
    thread.start()
    try:
        base_url = thread.started.result(timeout=10)
    except BaseException:
        thread.stop()
        thread.join(10)
        raise
    handle = SandboxHandle(base_url, config)
    try:
        yield handle
    finally:
        handle.close()
        thread.stop()
        thread.join(10)
