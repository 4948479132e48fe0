"""Probes: one check, one `Sample`, never an exception, never past the check's timeout.

One `Prober` per monitor process holds what probes share: the HTTP client, a Redis
client per `redis` check, and Herald's own Redis (read for heartbeats). Each probe runs
under its check's timeout, so a hung target costs only its own check that long; the
monitor runs checks concurrently, so nothing else waits for it.

A heartbeat check whose GET fails is not its component's fault: Herald's Redis is
down. Its detail then starts with `HERALD_REDIS_DOWN`; see `blames_herald`.
"""

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final

import aiohttp
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from ground import keyspace
from monitor.local_probes import REAP_S, probe_command, probe_process, probe_systemd
from monitor.outcome import Outcome, describe, safe, seconds
from monitor.sample import Sample
from monitor.settings import CheckSpec
from worker.verdict import format_age

HERALD_REDIS_DOWN: Final = "redis: Herald's Redis unreachable: "
"""Prefix of a heartbeat check's detail when the heartbeat could not be read at all."""
MAX_BODY: Final = 1 << 20
"""An HTTP check reads at most this much of a body for `body_contains` / `json_path`."""
HTTP_IN_FLIGHT: Final = 64
"""HTTP probes sent at once; more wait for a slot. One event loop reads every answer, so
each probe in flight delays the others' reading of theirs: 500 at once measured a local
target's 2 ms answer as 100-600 ms. The wait for a slot counts toward neither the latency
nor the timeout, so it cannot make a check slow or down."""
_SELF_TIMED: Final = frozenset({"command", "systemd"})
"""Kinds that enforce the timeout themselves (to kill the process) and need a moment
more to reap it."""


def blames_herald(check: CheckSpec, sample: Sample) -> bool:
    """Whether a failed sample says Herald's Redis is down rather than the component."""
    return check.kind == "heartbeat" and sample.detail.startswith(HERALD_REDIS_DOWN)


class Prober:
    """Runs checks. `herald_redis` is borrowed (the caller closes it); the HTTP session
    and the `redis` checks' clients are this prober's to close."""

    def __init__(
        self, herald_redis: aioredis.Redis, *, now: Callable[[], float] = time.time
    ) -> None:
        self.herald_redis = herald_redis
        self.now = now
        self._http: aiohttp.ClientSession | None = None
        self._redis: dict[str, aioredis.Redis] = {}
        self._http_slots = asyncio.Semaphore(HTTP_IN_FLIGHT)
        self._kinds: Mapping[str, Callable[[CheckSpec], Awaitable[Outcome]]] = {
            "http": self._get,
            "tcp": _tcp,
            "redis": self._ping,
            "process": probe_process,
            "systemd": probe_systemd,
            "command": probe_command,
            "heartbeat": self._heartbeat,
        }

    async def probe(self, check: CheckSpec) -> Sample:
        """Run `check` once; any failure, timeout included, is a `Sample(ok=False)`."""
        if check.kind != "http":
            return await self._probe(check)
        async with self._http_slots:
            return await self._probe(check)

    async def _probe(self, check: CheckSpec) -> Sample:
        at = self.now()
        started = time.perf_counter()
        bound = check.timeout_s + (REAP_S + 0.5 if check.kind in _SELF_TIMED else 0.0)
        try:
            async with asyncio.timeout(bound):
                outcome = await self._kinds[check.kind](check)
        except Exception as exc:
            detail = describe(exc, check.timeout_s)
            if check.kind == "heartbeat":
                detail = HERALD_REDIS_DOWN + detail
            outcome = Outcome(False, detail, timed=False)
        latency = (time.perf_counter() - started) * 1000 if outcome.timed else None
        return Sample(ok=outcome.ok, latency_ms=latency, detail=safe(outcome.detail), at=at)

    async def aclose(self) -> None:
        clients, self._redis = list(self._redis.values()), {}
        for client in clients:
            with contextlib.suppress(Exception):
                await client.aclose()
        if self._http is not None:
            await self._http.close()

    def _session(self) -> aiohttp.ClientSession:
        """Made on first use, inside the running loop, as aiohttp requires. aiohttp rather
        than httpx here: a round of 500 probes cost the monitor 0.6 s of CPU against
        1.0-1.2 s (docs/BENCHMARKS.md, Monitor)."""
        if self._http is None:
            self._http = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0, ttl_dns_cache=60),
                headers={"User-Agent": "herald-monitor"},
            )
        return self._http

    async def _get(self, check: CheckSpec) -> Outcome:
        options = check.options
        wanted = options.get("expect_status", 200)
        allowed = wanted if isinstance(wanted, list) else [wanted]
        try:
            async with self._session().request(
                str(options.get("method", "GET")),
                str(options["url"]),
                timeout=aiohttp.ClientTimeout(total=check.timeout_s),
            ) as response:
                status = f"HTTP {response.status}"
                if response.status not in allowed:
                    return Outcome(False, status)
                if "body_contains" not in options and "json_path" not in options:
                    return Outcome(True, status)
                problem = body_problem(await _read_capped(response), options)
        except TimeoutError:
            return Outcome(False, f"timed out after {seconds(check.timeout_s)}", timed=False)
        return Outcome(problem is None, problem or status)

    async def _ping(self, check: CheckSpec) -> Outcome:
        client = self._redis.get(check.name)
        if client is None:
            client = aioredis.Redis.from_url(
                str(check.options["redis_url"]),
                socket_timeout=check.timeout_s,
                socket_connect_timeout=check.timeout_s,
                retry=Retry(NoBackoff(), 0),  # a check reports what it saw, not a retry
            )
            self._redis[check.name] = client
        answered = await client.ping()
        return Outcome(True, "PONG") if answered else Outcome(False, f"PING got {answered!r}")

    async def _heartbeat(self, check: CheckSpec) -> Outcome:
        raw = await self.herald_redis.get(keyspace.heartbeat(check.name))
        if raw is None:
            return Outcome(False, "no heartbeat yet", timed=False)
        try:
            age = self.now() - float(raw) / 1000
        except ValueError:
            return Outcome(False, f"heartbeat {raw!r} is not a time (epoch ms)", timed=False)
        ok = age <= check.interval_s
        return Outcome(ok, f"last heartbeat {format_age(max(age, 0.0))} ago", timed=False)


async def _tcp(check: CheckSpec) -> Outcome:
    port = int(check.options["port"])
    _, writer = await asyncio.open_connection(str(check.options["host"]), port)
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return Outcome(True, f"port {port} open")


async def _read_capped(response: aiohttp.ClientResponse) -> bytes:
    body = bytearray()
    async for chunk in response.content.iter_chunked(1 << 16):
        body += chunk
        if len(body) >= MAX_BODY:
            break
    return bytes(body[:MAX_BODY])


def body_problem(body: bytes, options: Mapping[str, Any]) -> str | None:
    """What is wrong with an HTTP check's body (`body_contains`, `json_path` equal to
    `json_equals`), or None."""
    needle = options.get("body_contains")
    if needle is not None and str(needle) not in body.decode("utf-8", "replace"):
        return f"body lacks {safe(str(needle), 60)!r}"
    path = options.get("json_path")
    if path is None:
        return None
    try:
        found = json_at(json.loads(body), str(path))
    except ValueError:
        return "body is not JSON"
    except LookupError as missing:
        return f"{path}: no {missing.args[0]!r} in the body"
    want = options.get("json_equals")
    if _same(found, want):
        return None
    return f"{path} = {safe(repr(found), 80)}, expected {want!r}"


def json_at(document: object, path: str) -> object:
    """`checks.db.status` into a JSON document; an integer segment indexes a list.
    Raises LookupError carrying the segment that is not there."""
    node = document
    for segment in path.split("."):
        if isinstance(node, dict) and segment in node:
            node = node[segment]
        elif (
            isinstance(node, list)
            and segment.lstrip("-").isdigit()
            and (-len(node) <= int(segment) < len(node))
        ):
            node = node[int(segment)]
        else:
            raise LookupError(segment)
    return node


def _same(found: object, want: object) -> bool:
    """JSON equality: `true` is not `1`, but `1` is `1.0`."""
    if isinstance(found, bool) or isinstance(want, bool):
        return found is want
    return found == want
