"""The `herald` command: one subcommand per module, each registering its own parser.

A subcommand module exposes `add_parser(subparsers)` and sets `func` to a callable
taking the parsed namespace and returning an exit code.
"""

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from ground.errors import HeraldError
from ground.logs import configure_logging
from ground.redact import redact

# Modules are imported lazily by name so `herald publish` does not pay for aiohttp etc.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "publish": ("herald.publish_cli", "add_parser"),
    "dispatch": ("herald.engine_cli", "add_dispatch"),
    "worker": ("herald.engine_cli", "add_worker"),
    "dlq": ("herald.engine_cli", "add_dlq"),
    "sandbox": ("sandbox.cli", "add_parser"),
    "up": ("herald.up", "add_parser"),
    "status": ("herald.status_cli", "add_parser"),
    "monitor": ("herald.monitor_cli", "add_parser"),
    "bot": ("herald.bot_cli", "add_parser"),
    "books": ("herald.books_cli", "add_parser"),
    "report": ("herald.report_cli", "add_parser"),
}


def build_parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="herald", description="Trading-system events to Discord.")
    parser.add_argument(
        "--log-json",
        action="store_true",
        default=os.environ.get("HERALD_LOG_JSON", "") not in {"", "0", "false"},
        help="log one JSON object per line (default: key=value lines; env HERALD_LOG_JSON=1)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    first = next((a for a in argv if not a.startswith("-")), None)  # skip global options
    wanted = first if first in SUBCOMMANDS else None
    for name, (module, function) in SUBCOMMANDS.items():
        if wanted is None or name == wanted:
            getattr(importlib.import_module(module), function)(sub)
        else:
            sub.add_parser(name, help=f"see `herald {name} --help`")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(args_list).parse_args(args_list)
    configure_logging(getattr(args, "log_level", "INFO"), json_lines=args.log_json)
    try:
        code: int = args.func(args)
    except HeraldError as exc:
        print(f"herald {args.command}: {redact(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
