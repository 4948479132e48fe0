"""`herald sandbox` and `python -m sandbox`: the options of the local Discord stand-in.

`add_parser` registers the options as a `herald` subcommand; `main` parses the same
options on its own, so the sandbox runs without importing anything of Herald's above
the ground floor (it plays Discord and must not share code with what it checks).
"""

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from ground.logs import configure_logging
from ground.rates import CHANNEL_RATE, GLOBAL_RATE, WEBHOOK_RATE, Rate, parse_rate
from sandbox.config import Faults, SandboxConfig
from sandbox.webhooks import Webhook, default_webhooks, parse_webhook_spec

DESCRIPTION = (
    "A local stand-in for Discord's Execute Webhook endpoint: validates like Discord, "
    "rate-limits like Discord, injects faults, and shows the channels at /."
)


def _rate(text: str) -> Rate:
    try:
        return parse_rate(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number between 0 and 1, got {text!r}"
        ) from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected seconds (a number >= 0), got {text!r}"
        ) from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected seconds >= 0, got {text}")
    return value


def _webhook(text: str) -> Webhook:
    try:
        return parse_webhook_spec(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--webhook {exc}") from None


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """`herald sandbox`: `herald.cli` configures logging and calls `func`."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "sandbox",
        help="run a local Discord webhook sandbox with a channel viewer",
        description=DESCRIPTION,
    )
    add_options(parser)
    parser.set_defaults(func=run_from_args)
    return parser


def build_parser() -> argparse.ArgumentParser:
    """`python -m sandbox`: the same options, plus `--log-json` (global in `herald`)."""
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=DESCRIPTION)
    add_options(parser)
    parser.add_argument(
        "--log-json",
        action="store_true",
        help="log one JSON object per line (default: key=value lines)",
    )
    return parser


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--log-level", default="WARNING", help="log level (default WARNING)")
    _server_options(parser.add_argument_group("server"))
    _limit_options(parser.add_argument_group("rate limits (default: Discord's)"))
    _fault_options(parser.add_argument_group("injected faults"))
    _webhook_options(parser.add_argument_group("webhooks"))


def _server_options(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    group.add_argument(
        "--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)"
    )


def _limit_options(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--limit", type=_rate, default=WEBHOOK_RATE, metavar="N/Ts", help="per-webhook limit (5/2s)"
    )
    group.add_argument(
        "--channel-limit",
        type=_rate,
        default=CHANNEL_RATE,
        metavar="N/Ts",
        help="per-channel (30/60s)",
    )
    group.add_argument(
        "--global-limit", type=_rate, default=GLOBAL_RATE, metavar="N/Ts", help="global (50/1s)"
    )
    group.add_argument(
        "--no-limits", action="store_true", help="disable all rate limits (benchmarks)"
    )


def _fault_options(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--fail-rate", type=_fraction, default=0.0, metavar="F", help="share of 500/502/503 answers"
    )
    group.add_argument(
        "--slow-rate", type=_fraction, default=0.0, metavar="F", help="share of slow answers"
    )
    group.add_argument(
        "--slow-seconds", type=_seconds, default=1.0, metavar="S", help="delay of a slow answer"
    )
    group.add_argument(
        "--drop-rate", type=_fraction, default=0.0, metavar="F", help="share of dropped connections"
    )
    group.add_argument(
        "--seed", type=int, default=None, help="seed for fault injection (replayable runs)"
    )


def _webhook_options(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--strict-tokens",
        action="store_true",
        help="404 unknown webhook ids instead of registering them",
    )
    group.add_argument(
        "--webhook",
        type=_webhook,
        action="append",
        default=[],
        metavar="ID:TOKEN:CHANNEL",
        help="extra webhook (repeatable); several may share a channel to test channel limits",
    )


def config_from_args(args: argparse.Namespace) -> SandboxConfig:
    limits = not args.no_limits
    return SandboxConfig(
        host=args.host,
        port=args.port,
        webhook_rate=args.limit if limits else None,
        channel_rate=args.channel_limit if limits else None,
        global_rate=args.global_limit if limits else None,
        faults=Faults(
            fail_rate=args.fail_rate,
            slow_rate=args.slow_rate,
            slow_seconds=args.slow_seconds,
            drop_rate=args.drop_rate,
        ),
        seed=args.seed,
        strict_tokens=args.strict_tokens,
        webhooks=default_webhooks() + list(args.webhook),
    )


def run_from_args(args: argparse.Namespace) -> int:
    from sandbox.app import run  # aiohttp only when actually serving

    return run(config_from_args(args))


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m sandbox [options]`: parse, set up logging, serve until SIGINT/SIGTERM."""
    args = build_parser().parse_args(sys.argv[1:] if argv is None else list(argv))
    configure_logging(args.log_level, json_lines=args.log_json)
    try:
        return run_from_args(args)
    except KeyboardInterrupt:
        return 130
