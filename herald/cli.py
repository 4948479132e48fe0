"""The `herald` command: one subcommand per module, each registering its own parser.

A subcommand module exposes `add_parser(subparsers)` and sets `func` to a callable
taking the parsed namespace and returning an exit code.
"""

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from herald.errors import HeraldError
from herald.redact import RedactingFilter, redact

# Modules are imported lazily by name so `herald publish` does not pay for aiohttp etc.
SUBCOMMANDS: dict[str, str] = {
    "publish": "herald.publish_cli",
    "sandbox": "sandbox.cli",
}


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def build_parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="herald", description="Trading-system events to Discord.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    wanted = argv[0] if argv and argv[0] in SUBCOMMANDS else None
    for name, module in SUBCOMMANDS.items():
        if wanted is None or name == wanted:
            importlib.import_module(module).add_parser(sub)
        else:
            sub.add_parser(name, help=f"see `herald {name} --help`")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(args_list).parse_args(args_list)
    configure_logging(getattr(args, "log_level", "INFO"))
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
