"""Build the aiohttp application and run it: the one place routes are wired together."""

import asyncio
import contextlib
import logging
import signal

from aiohttp import web

from sandbox import admin, execute, interactions, viewer
from sandbox.config import SandboxConfig
from sandbox.execute import STATE
from sandbox.state import SandboxState
from sandbox.webhooks import default_token

log = logging.getLogger(__name__)


def make_app(config: SandboxConfig) -> web.Application:
    app = web.Application(client_max_size=8 * 1024 * 1024)
    app[STATE] = SandboxState(config)
    execute.add_routes(app)
    admin.add_routes(app)
    viewer.add_routes(app)
    interactions.add_routes(app)
    return app


async def start(config: SandboxConfig) -> tuple[web.AppRunner, str]:
    """Start serving; return the runner (to `cleanup()`) and the base URL actually bound.

    Port 0 picks a free port. No access log: it would print webhook tokens.
    """
    runner = web.AppRunner(make_app(config), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, config.host, config.port, reuse_address=True)
    await site.start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"


def describe(config: SandboxConfig, base_url: str) -> str:
    """The start-up banner. Only the default webhooks (public fake tokens) are shown in full."""
    lines = [f"Herald Discord sandbox on {base_url}  (viewer: {base_url}/)"]
    for hook in config.webhooks:
        shown = hook.token if hook.token == default_token(hook.channel) else "***"
        lines.append(f"  #{hook.channel:<16} {base_url}/api/webhooks/{hook.id}/{shown}")
    limits = [
        f"webhook {config.webhook_rate or 'off'}",
        f"channel {config.channel_rate or 'off'}",
        f"global {config.global_rate or 'off'}",
    ]
    lines.append("  limits: " + ", ".join(limits))
    return "\n".join(lines)


async def serve(config: SandboxConfig) -> None:
    """Run until SIGINT/SIGTERM, printing the webhook URLs first."""
    runner, base_url = await start(config)
    print(describe(config, base_url), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def run(config: SandboxConfig) -> int:
    asyncio.run(serve(config))
    return 0
