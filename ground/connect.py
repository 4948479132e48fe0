"""The one way a Herald process builds a Redis client: a plain URL or a Sentinel address.

A Sentinel address names the Sentinels and the service, never the primary:
`redis+sentinel://[[user]:password@]host1[:port][,host2[:port]...]/service[/db]`
(port 26379 unless given). The client asks a Sentinel for the primary on every new
connection (redis-py's `SentinelConnectionPool`) and, here, at most every `FOLLOW_S` when
it takes a pooled one; a connection that meets a dead primary or a demoted one (READONLY)
is dropped, so after a failover the next command reaches the new primary without a
restart. The password in the URL is the Redis
servers'; Sentinels that want their own take it from $HERALD_REDIS_SENTINEL_PASSWORD
(a password in the query string would show up in logs, which redact only userinfo).
"""

import contextlib
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import unquote

import redis
import redis.asyncio as aioredis
from redis.asyncio.sentinel import Sentinel as AsyncSentinel
from redis.asyncio.sentinel import SentinelConnectionPool as AsyncSentinelPool
from redis.sentinel import Sentinel, SentinelConnectionPool

from ground.errors import ConfigError
from ground.redact import redact

SCHEME: Final = "redis+sentinel"
DEFAULT_SENTINEL_PORT: Final = 26379
FOLLOW_S: Final = 0.5
"""How often a pool asks the Sentinels which node is the primary, besides on connecting."""
FOLLOW_RETRY_S: Final = 30.0
"""How long a pool waits before asking again after no Sentinel answered."""
SENTINEL_PASSWORD_ENV: Final = "HERALD_REDIS_SENTINEL_PASSWORD"  # noqa: S105 - a name
SENTINEL_TIMEOUT_S: Final = 1.0
"""Asking a Sentinel: a dead or paused one must not hold up the search for the primary."""
FORM: Final = f"{SCHEME}://[:password@]host1[:port][,host2[:port]...]/service[/db]"


@dataclass(frozen=True)
class SentinelAddress:
    """A parsed Sentinel address; the passwords are kept out of its repr."""

    sentinels: tuple[tuple[str, int], ...]
    service: str
    db: int = 0
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sentinel_password: str | None = field(default=None, repr=False)

    def describe(self) -> str:
        hosts = ",".join(f"{host}:{port}" for host, port in self.sentinels)
        return f"sentinel service {self.service!r} via {hosts} (db {self.db})"


def is_sentinel(url: str) -> bool:
    return url.lower().startswith(SCHEME + "://")


def parse_sentinel(url: str, env: Mapping[str, str] | None = None) -> SentinelAddress:
    """`url` -> a `SentinelAddress`; a `ConfigError` naming the part that is wrong."""
    env = os.environ if env is None else env
    if not is_sentinel(url):
        raise _bad(url, "the scheme", f"a Sentinel address starts with {SCHEME}://")
    rest = url[len(SCHEME) + 3 :]
    if "?" in rest or "#" in rest:
        raise _bad(
            url,
            "the query string",
            f"no options are read from it; give a Sentinel password in {SENTINEL_PASSWORD_ENV}",
        )
    userinfo, _, hostpath = rest.rpartition("@")
    hosts, _, path = hostpath.partition("/")
    username, password = _userinfo(userinfo)
    service, db = _service(url, path)
    return SentinelAddress(
        sentinels=tuple(_host(url, part) for part in _parts(url, hosts)),
        service=service,
        db=db,
        username=username,
        password=password,
        sentinel_password=env.get(SENTINEL_PASSWORD_ENV) or None,
    )


def _userinfo(userinfo: str) -> tuple[str | None, str | None]:
    if not userinfo:
        return None, None
    user, colon, password = userinfo.partition(":")
    return (unquote(user) or None), (unquote(password) if colon else None)


def _parts(url: str, hosts: str) -> list[str]:
    parts = hosts.split(",")
    if not hosts or any(not part.strip() for part in parts):
        raise _bad(url, "the host list", "name at least one Sentinel, `host:port` comma-separated")
    return [part.strip() for part in parts]


def _host(url: str, part: str) -> tuple[str, int]:
    if part.startswith("["):  # [ipv6]:port
        host, _, port = part[1:].partition("]")
        port = port.removeprefix(":")
    else:
        host, _, port = part.rpartition(":") if ":" in part else (part, "", "")
    if not host:
        raise _bad(url, f"the Sentinel `{part}`", "it has no host name")
    if not port:
        return host, DEFAULT_SENTINEL_PORT
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise _bad(url, f"the Sentinel `{part}`", f"port `{port}` is not a number 1-65535")
    return host, int(port)


def _service(url: str, path: str) -> tuple[str, int]:
    service, _, db = path.partition("/")
    if not service:
        raise _bad(url, "the service name", "give the name Sentinel monitors, e.g. /mymaster/0")
    if "/" in db or (db and not db.isdigit()):
        raise _bad(url, f"the database `{db}`", "expected a number after the service, e.g. /0")
    return unquote(service), int(db or 0)


def _bad(url: str, part: str, what: str) -> ConfigError:
    return ConfigError(f"Redis address {redact(url)}: {part} is wrong: {what} (form: {FORM})")


def _sentinel_kwargs(address: SentinelAddress, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    timeout = kwargs.get("socket_timeout") or SENTINEL_TIMEOUT_S
    return {
        "socket_timeout": min(timeout, SENTINEL_TIMEOUT_S),
        "socket_connect_timeout": min(timeout, SENTINEL_TIMEOUT_S),
        "password": address.sentinel_password,
    }


def _server_kwargs(address: SentinelAddress, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    return {"db": address.db, "username": address.username, "password": address.password} | dict(
        kwargs
    )


def sync_client(url: str, *, env: Mapping[str, str] | None = None, **kwargs: Any) -> redis.Redis:
    """A client for `url` (plain or Sentinel); `kwargs` go to every connection, as with
    `redis.Redis.from_url` (socket timeouts, retry, health checks, ...)."""
    if not is_sentinel(url):
        try:
            return redis.Redis.from_url(url, **kwargs)
        except ValueError as exc:
            raise ConfigError(f"Redis URL {redact(url)}: {redact(str(exc))}") from None
    address = parse_sentinel(url, env)
    manager = Sentinel(  # type: ignore[no-untyped-call]
        list(address.sentinels), sentinel_kwargs=_sentinel_kwargs(address, kwargs)
    )
    client: redis.Redis = manager.master_for(  # type: ignore[no-untyped-call]
        address.service, connection_pool_class=_FollowingPool, **_server_kwargs(address, kwargs)
    )
    return client


class _Follow:
    """When a pool next asks the Sentinels for the primary: `FOLLOW_S` after they
    answered, `FOLLOW_RETRY_S` after none did (set before asking, so that is the default)."""

    def __init__(self) -> None:
        self.at = 0.0

    def due(self) -> bool:
        if time.monotonic() < self.at:
            return False
        self.at = time.monotonic() + FOLLOW_RETRY_S
        return True

    def answered(self) -> None:
        self.at = time.monotonic() + FOLLOW_S


class _FollowingPool(SentinelConnectionPool):
    """Asks the Sentinels for the primary at most every `FOLLOW_S` as it hands out a
    connection, not only when it opens one. After a switchover, or a partition, the old
    primary stays up and takes the writes of pooled connections until Sentinel demotes
    it (about 10 s later), writes its resync then throws away; learning of the new
    primary makes redis-py drop idle connections to the old one and, on release, the
    busy ones. Sentinels that do not answer are asked again only after
    `FOLLOW_RETRY_S`, so their silence stalls one command in that long, not every one."""

    def __init__(self, service_name: str, sentinel_manager: Sentinel, **kwargs: Any) -> None:
        super().__init__(service_name, sentinel_manager, **kwargs)  # type: ignore[no-untyped-call]
        self._follow = _Follow()

    def get_connection(self, *args: Any, **options: Any) -> Any:
        if self._follow.due():
            with contextlib.suppress(redis.ConnectionError, redis.TimeoutError):
                self.get_master_address()  # type: ignore[no-untyped-call]
                self._follow.answered()
        return super().get_connection(*args, **options)


class _FollowingAsyncPool(AsyncSentinelPool):
    """`_FollowingPool` for asyncio clients. redis-py's asyncio pool takes back a
    connection without asking `owns_connection`, so `release` disconnects one that is
    still on a former primary (it reconnects to the current one when next used)."""

    def __init__(self, service_name: str, sentinel_manager: AsyncSentinel, **kwargs: Any) -> None:
        super().__init__(service_name, sentinel_manager, **kwargs)  # type: ignore[no-untyped-call]
        self._follow = _Follow()

    async def get_connection(self, *args: Any, **options: Any) -> Any:
        if self._follow.due():
            with contextlib.suppress(redis.ConnectionError, redis.TimeoutError):
                await self.get_master_address()  # type: ignore[no-untyped-call]
                self._follow.answered()
        return await super().get_connection(*args, **options)  # type: ignore[no-untyped-call]

    async def release(self, connection: Any) -> None:
        where = self.master_address
        if where is not None and (connection.host, connection.port) != where:
            await connection.disconnect()
        await super().release(connection)


class _BlockingSentinelPool(_FollowingAsyncPool, aioredis.BlockingConnectionPool):
    """A Sentinel pool that makes a caller wait for a free connection instead of failing."""


def async_client(
    url: str, *, blocking: bool = False, env: Mapping[str, str] | None = None, **kwargs: Any
) -> aioredis.Redis:
    """The asyncio twin of `sync_client`; `blocking` takes a `BlockingConnectionPool`
    (`max_connections`, `timeout` in `kwargs`) so a burst waits for a connection."""
    if not is_sentinel(url):
        try:
            if blocking:
                return aioredis.Redis.from_pool(
                    aioredis.BlockingConnectionPool.from_url(url, **kwargs)
                )
            return aioredis.Redis.from_url(url, **kwargs)
        except ValueError as exc:
            raise ConfigError(f"Redis URL {redact(url)}: {redact(str(exc))}") from None
    address = parse_sentinel(url, env)
    manager = AsyncSentinel(  # type: ignore[no-untyped-call]
        list(address.sentinels), sentinel_kwargs=_sentinel_kwargs(address, kwargs)
    )
    pool = _BlockingSentinelPool if blocking else _FollowingAsyncPool
    client: aioredis.Redis = manager.master_for(
        address.service, connection_pool_class=pool, **_server_kwargs(address, kwargs)
    )
    return client


def describe(url: str) -> str:
    """What a person may read about where a client goes: redacted, Sentinel spelt out."""
    if is_sentinel(url):
        try:
            return parse_sentinel(url, {}).describe()
        except ConfigError:
            pass
    return redact(url)
