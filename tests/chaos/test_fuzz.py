"""Fuzzing a real engine: hostile-but-valid events of every kind, and raw garbage.

A redis-server, the sandbox (it validates each request against Discord's schema and the
6000-character rule) and an in-process `Dispatcher` running its real loop in a thread;
`Flush` jobs are run in-process once the dispatcher has handled a batch. Asserts: the
dispatcher never stops; every valid event is delivered in a payload the sandbox accepts
and that pings no one; every invalid stream entry lands in the DLQ with its bytes and a
reason.
"""

import os
import shutil
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import schemas
from ground import keyspace
from ground.errors import InvalidEvent
from ground.keyspace import PAYLOAD_FIELD
from ground.proc import wait_until
from herald.redis_server import RedisServer
from producer.streams import stream_key
from sandbox.testing import SandboxHandle, run_sandbox
from schemas import Envelope, Event
from schemas.base import Lane
from schemas.codec import encode
from schemas.ids import new_event_id
from tests.chaos.audit import footer_ids
from tests.engine.conftest import engine_env
from tests.unit.test_render_properties import envelopes
from worker.channels import CHANNELS
from worker.config import load
from worker.dispatcher import Dispatcher
from worker.dlq import DeadLetterQueue
from worker.engine import Engine as FlushEngine
from worker.flush import Flush

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")

LANE_STREAMS = [stream_key(lane) for lane in Lane]


@dataclass
class Rig:
    redis: redis.Redis
    sandbox: SandboxHandle
    dispatcher: Dispatcher
    thread: threading.Thread
    flush: FlushEngine

    def reset(self) -> None:
        """A clean slate for one example; the dispatcher thread keeps running."""
        for key in self.redis.scan_iter(match="herald:*"):
            if not key.startswith(b"herald:events:"):
                self.redis.delete(key)
        for stream in LANE_STREAMS:
            self.redis.xtrim(stream, maxlen=0)
        self.sandbox.reset()

    def settle(self) -> None:
        """Let the dispatcher hand everything on, then drain every outbox."""
        wait_until(lambda: self.dispatcher.backlog() == 0, 30, "the dispatcher to catch up")
        assert self.thread.is_alive(), "the dispatcher stopped"
        for channel in CHANNELS:
            wait_until(lambda c=channel: _drained(self, c), 60, f"#{channel} to drain")


def _drained(rig: Rig, channel: str) -> bool:
    Flush(rig.flush, channel).run()
    return rig.redis.llen(keyspace.outbox(channel)) == 0


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    tmp: Path = tmp_path_factory.mktemp("fuzz")
    server = RedisServer(tmp / "redis")
    server.start()
    config = tmp / "herald.toml"
    # No folding (every valid event must reach the sandbox) and no rate limit to wait on.
    config.write_text('[delivery]\nrate = ["100000/1s"]\n\n[dedupe.keys]\n')
    stop = threading.Event()
    try:
        with run_sandbox(no_limits=True) as sandbox:
            settings_ = load(env=engine_env(server.url, sandbox, HERALD_CONFIG=str(config)))
            client = redis.Redis(port=server.port, socket_timeout=30)
            dispatcher = Dispatcher(client, settings_, name="fuzz", block_ms=20)
            thread = threading.Thread(target=dispatcher.run, args=(stop,), daemon=True)
            thread.start()
            engine = FlushEngine.create(client, settings_)
            yield Rig(client, sandbox, dispatcher, thread, engine)
            stop.set()
            thread.join(10)
    finally:
        server.stop()


# -- strategies -------------------------------------------------------------------------


@st.composite
def valid_envelopes(draw: st.DrawFn) -> Envelope:
    cls: type[Event] = draw(st.sampled_from(schemas.EVENT_TYPES))
    return draw(envelopes(cls))


def _wrong_shape(draw: st.DrawFn) -> bytes:
    """Valid msgpack that is not an envelope."""
    plain = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**63), 2**64 - 1),
        st.floats(),
        st.text(),
        st.binary(),
    )
    value = draw(
        st.one_of(
            plain,
            st.lists(plain, max_size=5),
            st.dictionaries(st.text(max_size=10), plain, max_size=5),
            st.just({"id": "x", "kind": "trade_executed"}),
        )
    )
    return msgspec.msgpack.encode(value)


def _broken_envelope(draw: st.DrawFn) -> bytes:
    """A valid envelope with one field replaced, dropped or misnamed."""
    envelope = msgspec.to_builtins(draw(valid_envelopes()))
    event = envelope["event"]
    how = draw(st.sampled_from(["kind", "drop", "rename", "type", "extra"]))
    name = draw(st.sampled_from(sorted(k for k in event if k != "kind")))
    if how == "kind":
        event["kind"] = draw(st.sampled_from(["nope", "", "TRADE_EXECUTED", "price alert"]))
    elif how == "drop" and name in _required(event["kind"]):
        del event[name]
    elif how == "rename":
        event[name + "_"] = event.pop(name)
    elif how == "type":
        event[name] = draw(st.sampled_from([[1, 2], {"a": 1}, -1e308, "", None, True]))
    else:
        envelope["surprise"] = 1
    return msgspec.msgpack.encode(envelope)


def _required(kind: str) -> set[str]:
    info = msgspec.inspect.type_info(schemas.KINDS[kind])
    assert isinstance(info, msgspec.inspect.StructType)
    return {f.name for f in info.fields if f.required}


@st.composite
def garbage(draw: st.DrawFn) -> dict[bytes, bytes]:
    """The fields of one invalid stream entry."""
    how = draw(st.sampled_from(["bytes", "truncated", "shape", "broken", "fields"]))
    if how == "bytes":
        return {PAYLOAD_FIELD: draw(st.binary(min_size=0, max_size=300))}
    if how == "truncated":
        raw = encode(draw(valid_envelopes()))
        return {PAYLOAD_FIELD: raw[: draw(st.integers(0, len(raw) - 1))]}
    if how == "shape":
        return {PAYLOAD_FIELD: _wrong_shape(draw)}
    if how == "broken":
        return {PAYLOAD_FIELD: _broken_envelope(draw)}
    name = draw(st.sampled_from([b"E", b"event", b"payload", b"e ", b"\x00"]))
    return {name: encode(draw(valid_envelopes()))}


def _is_valid(raw: bytes) -> bool:
    try:
        schemas.codec.decode(raw)
    except InvalidEvent:
        return False
    return True


# -- the property -----------------------------------------------------------------------

FUZZ = settings(
    max_examples=int(os.environ.get("HERALD_FUZZ_EXAMPLES", "60")),  # CI: ~10 s
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
    ],
)


@FUZZ
@given(
    valid=st.lists(valid_envelopes(), min_size=0, max_size=15),
    invalid=st.lists(garbage(), min_size=0, max_size=8),
    order=st.randoms(use_true_random=False),
)
def test_valid_events_are_delivered_silently_and_garbage_is_dead_lettered(
    rig: Rig, valid: list[Envelope], invalid: list[dict[bytes, bytes]], order: Any
) -> None:
    rig.reset()
    valid = [msgspec.structs.replace(e, id=new_event_id()) for e in valid]  # unique ids
    entries: list[tuple[str, dict[bytes, bytes]]] = [
        (stream_key(e.lane), {PAYLOAD_FIELD: encode(e)}) for e in valid
    ]
    bad: list[dict[bytes, bytes]] = []
    for fields in invalid:
        raw = fields.get(PAYLOAD_FIELD)
        if raw is not None and _is_valid(raw):  # a "broken" envelope that is still valid
            continue
        bad.append(fields)
        entries.append((order.choice(LANE_STREAMS), fields))
    order.shuffle(entries)
    for stream, fields in entries:
        rig.redis.xadd(stream, fields)  # type: ignore[arg-type]
    rig.settle()

    stats = rig.sandbox.stats()
    assert stats["bad_request"] == 0
    assert stats["empty_message"] == 0
    delivered, _ = footer_ids(rig.sandbox)
    assert set(delivered) == {e.id for e in valid}
    for message in rig.sandbox.messages():
        assert message["allowed_mentions"] == {"parse": []}
        assert message["mention_everyone"] is False
        assert message["mention_roles"] == []
        assert message["mentions"] == []

    letters = list(DeadLetterQueue(rig.redis).entries())
    assert len(letters) == len(bad)
    assert all(letter.reason.strip() for letter in letters)
    got = Counter(
        letter.raw for letter in letters if not letter.reason.startswith("stream entry has no")
    )
    assert got == Counter(f[PAYLOAD_FIELD] for f in bad if PAYLOAD_FIELD in f)
    misnamed = [x for x in letters if x.reason.startswith("stream entry has no")]
    assert len(misnamed) == sum(1 for f in bad if PAYLOAD_FIELD not in f)
    # Their bytes are checked by the regression test below (the engine keeps none today).


def test_an_entry_with_wrong_field_names_keeps_its_bytes_in_the_dlq(rig: Rig) -> None:
    """Regression (engine bug): an entry without the `e` field is dead-lettered with
    raw=b"", so the operator cannot see what was sent nor replay it once fixed."""
    rig.reset()
    envelope = Envelope(
        id=new_event_id(),
        created_at=datetime.now(UTC),
        source="fuzz",
        severity=schemas.Severity.INFO,
        event=schemas.SystemHealthy(services=1, latency_ms=1.0, uptime_pct=99.0, performance="ok"),
    )
    raw = encode(envelope)
    rig.redis.xadd(stream_key(Lane.NORMAL), {b"payload": raw})
    rig.settle()
    [letter] = DeadLetterQueue(rig.redis).entries()
    assert "no 'e' field" in letter.reason or "b'e'" in letter.reason
    assert raw in letter.raw  # the entry's bytes are kept, not b""
