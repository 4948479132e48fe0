"""`herald dispatch`, `herald worker` and `herald dlq`: the engine's commands."""

import argparse
import base64
import json
import logging
import os
import shlex
import sys
import tempfile
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from ground.durations import parse_duration
from ground.errors import HeraldError
from ground.proc import die_with_parent
from herald import options
from herald.options import add_redis_options
from schemas.codec import decode, to_builtins
from worker.config import Settings
from worker.dlq import DeadLetter, DeadLetterQueue

log = logging.getLogger("herald.worker")

Sub = "argparse._SubParsersAction[argparse.ArgumentParser]"


def _common(p: argparse.ArgumentParser) -> None:
    add_redis_options(p)
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    p.add_argument(
        "--log-json", action="store_true", default=argparse.SUPPRESS, help="JSON log lines"
    )


def _metrics(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--metrics-port",
        type=int,
        default=0,
        metavar="PORT",
        help="serve Prometheus metrics on PORT (default 0: off)",
    )


def add_dispatch(sub: Sub) -> None:  # type: ignore[valid-type]
    p = sub.add_parser("dispatch", help="read the event streams into per-channel outboxes")  # type: ignore[attr-defined]
    _common(p)
    p.add_argument("--name", help="consumer name (stable across restarts; default: hostname)")
    p.add_argument("--drain", action="store_true", help="exit once the streams are empty")
    _metrics(p)
    p.set_defaults(func=_dispatch)


def add_worker(sub: Sub) -> None:  # type: ignore[valid-type]
    p = sub.add_parser("worker", help="RQ workers that deliver outboxes to Discord")  # type: ignore[attr-defined]
    _common(p)
    p.add_argument(
        "-n",
        "--workers",
        type=int,
        default=1,
        help="worker processes (default 1, in this process; N > 1: a pool of N under "
        "supervisord, in the foreground)",
    )
    p.add_argument("--name", help="worker name (-n 1)")
    p.add_argument("--burst", action="store_true", help="exit when the queues are empty (-n 1)")
    p.add_argument(
        "--run-dir",
        metavar="DIR",
        help="-n N > 1: where supervisord keeps its config, socket and log "
        "(default: a new temporary directory)",
    )
    _metrics(p)
    p.add_argument(
        "--metrics-port-offset",
        type=int,
        default=0,
        metavar="N",
        help="added to --metrics-port (supervisord: %%(process_num)s); with -n, each worker "
        "adds its index too",
    )
    p.set_defaults(func=_worker)


def add_dlq(sub: Sub) -> None:  # type: ignore[valid-type]
    p = sub.add_parser("dlq", help="inspect, replay, drop and export dead letters")  # type: ignore[attr-defined]
    _common(p)
    dsub = p.add_subparsers(dest="dlq_command", required=True, metavar="ACTION")
    ls = dsub.add_parser("ls", help="list dead letters, newest first")
    _filters(ls)
    ls.add_argument("--limit", type=int, default=50)
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=_dlq_ls)
    show = dsub.add_parser("show", help="one dead letter in full, with its decoded event")
    show.add_argument("id")
    show.set_defaults(func=_dlq_show)
    replay = dsub.add_parser("replay", help="put dead letters back on their channel (skips dedupe)")
    _selection(replay)
    replay.add_argument("--dry-run", action="store_true", help="say what would be replayed")
    replay.set_defaults(func=_dlq_replay)
    drop = dsub.add_parser("drop", help="delete dead letters for good")
    _selection(drop)
    drop.set_defaults(func=_dlq_drop)
    export = dsub.add_parser("export", help="write dead letters as JSON Lines (raw bytes base64)")
    export.add_argument("--jsonl", metavar="FILE", default="-", help="output file (default stdout)")
    _filters(export)
    export.set_defaults(func=_dlq_export)


def _filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--channel")
    p.add_argument("--kind")
    p.add_argument("--reason", help="substring of the reason")
    p.add_argument("--since", help="age (e.g. 2h) or ISO time")


def _selection(p: argparse.ArgumentParser) -> None:
    p.add_argument("ids", nargs="*", metavar="ID")
    p.add_argument("--all", action="store_true")
    _filters(p)


# -- runners --------------------------------------------------------------------------------


def _settings(args: argparse.Namespace) -> Settings:
    return options.settings(args)


def _dispatch(args: argparse.Namespace) -> int:
    from worker.service import run_dispatcher

    _die_with_supervisord()
    run_dispatcher(
        _settings(args), name=args.name, drain=args.drain, metrics_port=args.metrics_port
    )
    return 0


def _worker(args: argparse.Namespace) -> int:
    settings = _settings(args)  # a bad herald.toml stops here, not in N restarting workers
    if args.workers < 1:
        raise HeraldError("-n/--workers must be at least 1")
    port = args.metrics_port + args.metrics_port_offset if args.metrics_port else 0
    if args.workers > 1:
        _exec_pool(args, settings, port)
    from worker.service import run_worker

    _die_with_supervisord()
    run_worker(settings, name=args.name, burst=args.burst, metrics_port=port)
    return 0


def _exec_pool(args: argparse.Namespace, settings: Settings, port: int) -> NoReturn:
    """`-n N`: become supervisord running N `herald worker -n 1` programs (and no dispatcher),
    from the template `herald up` and deploy/supervisord.conf use (herald/supervisor.py)."""
    from herald.supervisor import Layout, exec_pool

    if args.burst or args.name:
        raise HeraldError("--burst and --name are for one worker (-n 1)")
    # The Redis resolved here reaches every worker through the environment, not through the
    # config file or a command line (a URL may hold a password).
    os.environ["HERALD_REDIS_URL"] = settings.redis_url
    flags = ["--log-level", args.log_level]
    if args.config:
        flags += ["--config", str(Path(args.config).resolve())]
    if getattr(args, "log_json", False):
        flags.append("--log-json")
    words = [_conf_quote(flag) for flag in flags]
    if port:  # worker i listens on port + i
        words += ["--metrics-port", str(port), "--metrics-port-offset", "%(process_num)s"]
    run_dir = Path(args.run_dir or tempfile.mkdtemp(prefix="herald-pool-")).resolve()
    layout = Layout(
        run_dir=str(run_dir),
        herald=f"{_conf_quote(sys.executable)} -m herald.cli",
        workers=args.workers,
        worker_flags=" ".join(words),
        dispatcher=False,
        worker_logs_to_stdout=True,
    )
    log.info("worker pool: %d workers under supervisord, run dir %s", args.workers, run_dir)
    exec_pool(layout)


def _conf_quote(word: str) -> str:
    """`word` as one word of a supervisord command (shell-quoted; `%` is its interpolation)."""
    return shlex.quote(word).replace("%", "%%")


def _die_with_supervisord() -> None:
    """Under supervisord (it sets SUPERVISOR_ENABLED), ask the kernel to SIGTERM this
    process when supervisord dies, even by SIGKILL: supervisord cannot ask for it, and an
    orphaned worker or dispatcher would go on beside the ones that replace it."""
    if os.environ.get("SUPERVISOR_ENABLED") == "1":
        die_with_parent()


def _queue(args: argparse.Namespace) -> DeadLetterQueue:
    return DeadLetterQueue(options.connect(options.location(args)))


def _matching(queue: DeadLetterQueue, args: argparse.Namespace) -> Iterable[DeadLetter]:
    since_ms = _since_ms(args.since) if args.since else None
    for entry in queue.entries():
        if args.channel and entry.channel != args.channel:
            continue
        if args.kind and entry.kind != args.kind:
            continue
        if args.reason and args.reason.lower() not in entry.reason.lower():
            continue
        if since_ms is not None and entry.last_failed_ms < since_ms:
            continue
        yield entry


def _selected(queue: DeadLetterQueue, args: argparse.Namespace) -> list[DeadLetter]:
    if args.ids:
        return [queue.get(i) for i in args.ids]
    if not (args.all or args.channel or args.kind or args.reason or args.since):
        raise HeraldError("say which dead letters: IDs, --all, or a filter such as --channel")
    return list(_matching(queue, args))


def _dlq_ls(args: argparse.Namespace) -> int:
    queue = _queue(args)
    rows = [e for _, e in zip(range(args.limit), _matching(queue, args), strict=False)]
    if args.json:
        print(json.dumps([e.summary() for e in rows], indent=1))
        return 0
    print(f"{len(queue)} dead letters" + (f", showing {len(rows)}" if rows else ""))
    for e in rows:
        when = _when(e.last_failed_ms)
        print(f"{e.id}  {when}  {e.channel or '-':16} {e.kind or '?':22} {e.reason[:90]}")
    return 0


def _dlq_show(args: argparse.Namespace) -> int:
    entry = _queue(args).get(args.id)
    print(json.dumps(_export_row(entry), indent=1, ensure_ascii=False))
    return 0


def _dlq_replay(args: argparse.Namespace) -> int:
    queue = _queue(args)
    entries = _selected(queue, args)
    stuck = [e for e in entries if e.channel is None]
    ready = [e for e in entries if e.channel is not None]
    if args.dry_run:
        for e in ready:
            print(f"would replay {e.id} ({e.kind}, event {e.event_id}) to #{e.channel}")
    else:
        queue.replay(ready)
        print(f"replayed {len(ready)} dead letters")
    if stuck:
        print(
            f"{len(stuck)} cannot be replayed: they never decoded into an event "
            "(inspect with `herald dlq show ID`, then `herald dlq drop`)",
            file=sys.stderr,
        )
    return 0


def _dlq_drop(args: argparse.Namespace) -> int:
    queue = _queue(args)
    print(f"dropped {queue.drop([e.id for e in _selected(queue, args)])} dead letters")
    return 0


def _dlq_export(args: argparse.Namespace) -> int:
    queue = _queue(args)
    out = sys.stdout if args.jsonl == "-" else open(args.jsonl, "w")  # noqa: SIM115
    try:
        count = 0
        for entry in _matching(queue, args):
            out.write(json.dumps(_export_row(entry), ensure_ascii=False) + "\n")
            count += 1
    finally:
        if out is not sys.stdout:
            out.close()
    print(f"exported {count} dead letters", file=sys.stderr)
    return 0


def _export_row(entry: DeadLetter) -> dict[str, Any]:
    row = entry.summary()
    row["raw_base64"] = base64.b64encode(entry.raw).decode()
    try:
        row["event"] = to_builtins(decode(entry.raw))
    except HeraldError:
        row["event"] = None
    return row


def _since_ms(text: str) -> int:
    try:
        return int(datetime.fromisoformat(text).timestamp() * 1000)
    except ValueError:
        pass
    try:
        age = parse_duration(text)
    except ValueError as exc:
        raise HeraldError(f"--since: {exc}") from None
    if isinstance(age, str):
        raise HeraldError(f"--since: use an age like 2h or an ISO time, got {text!r}")
    return int((time.time() - age.total_seconds()) * 1000)


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")
