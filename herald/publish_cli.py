"""`herald publish KIND --field value ...`: one event from a shell step (CI/CD, cron).

Options are generated from the event structs, so every kind and field is covered and
the CLI cannot drift from the contract. Unlike the in-process Publisher, the CLI waits
for Redis to accept the event and fails loudly: a CI step should go red, not spool.
"""

import argparse
import mimetypes
import re
import sys
import time
import typing
from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec
import redis

from ground import keyspace
from ground.channels import CHANNELS
from ground.durations import parse_duration
from ground.errors import InvalidEvent, RedisUnavailable
from ground.names import CHECK_NAME_RULE, check_name
from ground.redact import redact
from herald import options
from producer.streams import stream_key
from schemas.attachments import Attachment
from schemas.base import Event, Severity
from schemas.catalog import EVENT_TYPES, AnyEvent
from schemas.codec import encode, to_json
from schemas.envelope import wrap
from schemas.validate import build

_PATH = re.compile(r"^(?P<msg>.*) - at `\$\.(?P<field>[A-Za-z_]+)[^`]*`$")
_NAMED = re.compile(r"^`(?P<field>[A-Za-z_]+)` (?P<msg>.*?)(?: - at `\$`)?$")


def add_parser(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser(
        "publish",
        help="publish one event (for CI/CD and shell steps)",
        description="Publish one event to Herald's Redis streams and wait until Redis has it.",
    )
    kinds = parser.add_subparsers(dest="kind", required=True, metavar="KIND")
    for cls in EVENT_TYPES:
        _add_kind(kinds, cls)
    _add_heartbeat(kinds)


def _add_kind(
    kinds: "argparse._SubParsersAction[argparse.ArgumentParser]", cls: type[Event]
) -> None:
    name = cls.kind().replace("_", "-")
    p = kinds.add_parser(name, help=(cls.__doc__ or "").strip().split("\n")[0] or cls.kind())
    info = msgspec.inspect.type_info(cls)
    assert isinstance(info, msgspec.inspect.StructType)
    group = p.add_argument_group("event fields")
    for field in info.fields:
        flag = "--" + field.name.replace("_", "-")
        many = _is_sequence(field.type)
        group.add_argument(
            flag,
            dest=f"field_{field.name}",
            required=field.required,
            action="append" if many else "store",
            metavar=_metavar(field.type),
            help=("repeatable; " if many else "") + ("required" if field.required else "optional"),
        )
    meta = p.add_argument_group("envelope and delivery")
    meta.add_argument("--source", default="cli", help="which component publishes (default: cli)")
    meta.add_argument(
        "--severity", choices=[s.value for s in Severity], help="override the kind's default"
    )
    meta.add_argument("--dedup-key", help="override the dispatcher's dedupe key for this event")
    meta.add_argument(
        "--channel",
        dest="channels",
        action="append",
        choices=CHANNELS,
        metavar="CHANNEL",
        help="repeatable; send to this channel instead of the kind's route "
        f"({', '.join(CHANNELS)})",
    )
    meta.add_argument("--attach", action="append", type=Path, metavar="FILE",
                      help="repeatable; send FILE with the event's message")  # fmt: skip
    meta.add_argument(
        "--direct",
        action="store_true",
        help="skip Redis: render and post straight to the channel webhooks (HERALD_WEBHOOK_*)",
    )
    options.add_redis_options(meta)
    meta.add_argument(
        "--timeout", type=float, default=5.0, help="seconds to wait for Redis (default 5)"
    )
    meta.add_argument(
        "--print-json", action="store_true", help="print the published envelope as JSON"
    )
    p.set_defaults(func=run, event_cls=cls)


def _is_sequence(t: msgspec.inspect.Type) -> bool:
    if isinstance(t, msgspec.inspect.UnionType):
        return any(_is_sequence(x) for x in t.types)
    return isinstance(t, msgspec.inspect.VarTupleType | msgspec.inspect.ListType)


def _metavar(t: msgspec.inspect.Type) -> str:
    if isinstance(t, msgspec.inspect.UnionType):
        return "|".join(_metavar(x) for x in t.types if not isinstance(x, msgspec.inspect.NoneType))
    if isinstance(t, msgspec.inspect.EnumType):
        return "{" + ",".join(str(m.value) for m in t.cls) + "}"
    if isinstance(t, msgspec.inspect.VarTupleType | msgspec.inspect.ListType):
        return _metavar(t.item_type)
    names = {
        msgspec.inspect.TimeDeltaType: "DURATION",
        msgspec.inspect.DecimalType: "DECIMAL",
        msgspec.inspect.DateTimeType: "ISO8601",
        msgspec.inspect.DateType: "YYYY-MM-DD",
        msgspec.inspect.IntType: "INT",
        msgspec.inspect.FloatType: "NUMBER",
    }
    return names.get(type(t), "TEXT")


def event_from_args(cls: type[Event], args: argparse.Namespace) -> Event:
    """Build and fully validate the event; errors name the command-line flag."""
    hints = typing.get_type_hints(cls)
    fields: dict[str, Any] = {}
    for key, value in vars(args).items():
        if not key.startswith("field_") or value is None:
            continue
        name = key.removeprefix("field_")
        fields[name] = value
        if timedelta in (hints[name], *typing.get_args(hints[name])):
            try:
                fields[name] = parse_duration(value)
            except ValueError as exc:
                raise InvalidEvent(f"--{name.replace('_', '-')}: {exc}") from None
    try:
        return build(cls, fields, strict=False)
    except InvalidEvent as exc:
        detail = str(exc).split(": ", 1)[1]
        match = _PATH.match(detail) or _NAMED.match(detail)
        if match is None:
            raise
        flag = "--" + match["field"].replace("_", "-")
        raise InvalidEvent(f"{flag}: {match['msg']}") from None


def run(args: argparse.Namespace) -> int:
    event = event_from_args(args.event_cls, args)
    severity = Severity(args.severity) if args.severity else None
    envelope = wrap(
        typing.cast(AnyEvent, event),  # every Event subclass is a member of AnyEvent
        source=args.source,
        severity=severity,
        dedup_key=args.dedup_key,
        channels=args.channels,
        now_ns=time.time_ns(),
        attachments=[_attachment(path) for path in args.attach or ()],
    )
    if args.direct and envelope.attachments:
        raise InvalidEvent("--attach goes through the engine: drop --direct to send files")
    if args.direct:
        from herald.direct import post

        post(envelope, options.settings(args))
        print(to_json(envelope).decode() if args.print_json else envelope.id)
        return 0
    client = options.connect(options.location(args), timeout=args.timeout)
    try:
        client.xadd(
            stream_key(envelope.lane),
            {keyspace.PAYLOAD_FIELD: encode(envelope)},
            maxlen=keyspace.STREAM_MAXLEN,
            approximate=True,
        )
    except redis.RedisError as exc:
        raise RedisUnavailable(
            f"Redis at {options.location(args)} refused the event: {redact(str(exc))}"
        ) from None
    finally:
        client.close()
    out = to_json(envelope).decode() if args.print_json else envelope.id
    print(out, file=sys.stdout)
    return 0


def _attachment(path: Path) -> Attachment:
    """FILE as an attachment named by its base name, typed by its extension."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidEvent(f"--attach {path}: cannot read it ({exc.strerror})") from None
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return Attachment(filename=path.name, data=data, content_type=content_type)


def _add_heartbeat(kinds: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = kinds.add_parser(
        "heartbeat",
        help="say that a component is alive (for the monitor's heartbeat checks)",
        description="Set the heartbeat key of NAME to now, as Publisher.heartbeat does, "
        "and wait until Redis has it.",
    )
    p.add_argument("--name", required=True, type=_name, help=f"the component: {CHECK_NAME_RULE}")
    options.add_redis_options(p)
    p.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for Redis")
    p.set_defaults(func=run_heartbeat)


def _name(text: str) -> str:
    try:
        return check_name(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def run_heartbeat(args: argparse.Namespace) -> int:
    where = options.location(args)
    client = options.connect(where, timeout=args.timeout)
    try:
        now_ms = time.time_ns() // 1_000_000
        client.set(keyspace.heartbeat(args.name), now_ms, ex=keyspace.HEARTBEAT_TTL_S)
    except redis.RedisError as exc:
        raise RedisUnavailable(
            f"Redis at {where} refused the heartbeat: {redact(str(exc))}"
        ) from None
    finally:
        client.close()
    print(now_ms)
    return 0
