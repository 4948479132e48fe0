"""`herald bot`: serve Discord's HTTP interactions; `herald bot register`: the commands."""

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
from pathlib import Path

import httpx
from aiohttp import web
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from bot.app import Bot, make_app
from bot.audit import Audit
from bot.register import dry_run, register
from bot.settings import load_bot_settings
from ground import connect
from ground.proc import free_port, wait_until
from herald import options
from herald.demo_service import NAME as DEMO_SERVICE
from herald.demo_service import restart_argv
from producer import Publisher

log = logging.getLogger(__name__)

Sub = "argparse._SubParsersAction[argparse.ArgumentParser]"
REDIS_TIMEOUT_S = 1.0
"""Redis must answer quickly or not at all: Discord gives an interaction 3 seconds."""


def add_parser(sub: Sub) -> None:  # type: ignore[valid-type]
    p = sub.add_parser(  # type: ignore[attr-defined]
        "bot", help="answer Discord slash commands over HTTP interactions (POST /interactions)"
    )
    options.add_redis_options(p)
    p.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8790, help="listen port (default 8790; 0: any)")
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    p.add_argument("--log-json", action="store_true", default=argparse.SUPPRESS)
    p.set_defaults(func=run)
    actions = p.add_subparsers(dest="bot_command", metavar="ACTION")
    reg = actions.add_parser("register", help="overwrite a guild's slash commands with Herald's")
    reg.add_argument("--guild", required=True, help="the Discord guild (server) id")
    reg.add_argument("--dry-run", action="store_true", help="print the JSON, send nothing")
    reg.add_argument("--config", default=argparse.SUPPRESS, help="herald.toml path")
    reg.set_defaults(func=run_register)


def run_register(args: argparse.Namespace) -> int:
    if args.dry_run:
        print(dry_run())
        return 0
    found = register(load_bot_settings(args.config, serving=False), args.guild)
    print(
        f"registered {len(found)} command(s) on guild {args.guild}: "
        + ", ".join("/" + str(c.get("name")) for c in found)
    )
    return 0


def run(args: argparse.Namespace) -> int:
    engine = options.settings(args)  # a bad herald.toml stops here, key named
    settings = load_bot_settings(args.config)
    with Publisher(engine.redis_url, source="herald-bot") as publisher:
        bot = Bot(
            settings,
            engine,
            aredis=connect.async_client(
                engine.redis_url,
                socket_timeout=REDIS_TIMEOUT_S,
                socket_connect_timeout=REDIS_TIMEOUT_S,
                retry=Retry(NoBackoff(), 0),
            ),
            sync=connect.sync_client(
                engine.redis_url,
                socket_timeout=REDIS_TIMEOUT_S,
                socket_connect_timeout=REDIS_TIMEOUT_S,
            ),
            audit=Audit(publisher.publish),
            config_file=args.config,
        )
        asyncio.run(serve(bot, args.host, args.port))
    return 0


async def serve(bot: Bot, host: str, port: int) -> None:
    runner = web.AppRunner(make_app(bot), access_log=None, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, host, port, reuse_address=True).start()
    bound = runner.addresses[0][:2]
    log.info("interactions on http://%s:%s/interactions", bound[0], bound[1])
    print(f"herald bot: interactions on http://{bound[0]}:{bound[1]}/interactions", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        await bot.close()


# -- `herald up --demo`: the bot against the sandbox -------------------------------------------

DEMO_OPERATOR_ROLE = "900000000000000001"
"""The role the demo's bot lets /restart (type it in the viewer's roles box)."""
DEMO_SERVICES = ("dispatch", "monitor", "books")
"""What the demo's /restart restarts: Herald's own programs under the demo's supervisord."""


def demo_bot_env(
    env: dict[str, str], sandbox_url: str, config: Path, run_dir: str, demo_restart: str = ""
) -> int:
    """Point the bot at the sandbox (its key, its API) and give the demo config a `[bot]`
    whose /restart runs `supervisorctl restart` on the demo's own programs, and restarts
    the demo's watched service through `demo_restart` (its URL) when given. Returns the
    port the bot will listen on."""
    found = httpx.get(f"{sandbox_url}/api/interactions", timeout=5).json()
    env["HERALD_DISCORD_PUBLIC_KEY"] = found["public_key"]
    env["HERALD_DISCORD_APPLICATION_ID"] = found["application_id"]
    env["HERALD_DISCORD_API_BASE"] = f"{sandbox_url}/api/v10"
    env["HERALD_DISCORD_BOT_TOKEN"] = "sandbox-demo"  # noqa: S105 (the sandbox takes any)
    supervisorctl = str(Path(sys.executable).with_name("supervisorctl"))
    argv = [supervisorctl, "-c", f"{run_dir}/supervisord.conf", "restart", "{service}"]
    services = list(DEMO_SERVICES)
    if demo_restart:
        argv, services = restart_argv(demo_restart, argv), [DEMO_SERVICE, *services]
    with config.open("a") as out:
        out.write(
            "\n# Written by `herald up --demo`: the bot, answering the sandbox's interactions.\n"
            f"[bot]\nservices = {json.dumps(services)}\n"
            f'[bot.permissions]\nrestart = ["{DEMO_OPERATOR_ROLE}"]\n'
            f'[bot.actions.restart]\ncommand = {json.dumps(argv)}\ntimeout = "30s"\n'
        )
    return free_port()


def connect_demo_bot(env: dict[str, str], sandbox_url: str, port: int) -> str:
    """Once the bot answers: tell the sandbox where it is and register the commands."""
    url = f"http://127.0.0.1:{port}/interactions"

    def answers() -> bool:
        with contextlib.suppress(httpx.HTTPError):
            return httpx.post(url, content=b"{}", timeout=1).status_code == 401
        return False

    wait_until(answers, 30, "the bot to answer", interval=0.2)
    httpx.post(f"{sandbox_url}/api/interactions/config", json={"bot_url": url}, timeout=5)
    settings = load_bot_settings(env.get("HERALD_CONFIG"), env, serving=False)
    register(settings, str(httpx.get(f"{sandbox_url}/api/interactions").json()["guild_id"]))
    return url
