"""`ground.connect` without servers: parsing a Sentinel address, its errors, the clients
it builds (no connection is made until a command runs)."""

import pytest
import redis
import redis.asyncio as aioredis
from redis.asyncio.sentinel import SentinelConnectionPool as AsyncSentinelPool
from redis.sentinel import SentinelConnectionPool

from ground.connect import (
    DEFAULT_SENTINEL_PORT,
    SENTINEL_PASSWORD_ENV,
    SENTINEL_TIMEOUT_S,
    SentinelAddress,
    async_client,
    describe,
    is_sentinel,
    parse_sentinel,
    sync_client,
)
from ground.errors import ConfigError
from ground.replicated import Replication, execute_replicated

URL = "redis+sentinel://h1:26380,h2,[::1]:26381/mymaster/3"


def test_a_sentinel_address_names_hosts_service_and_db() -> None:
    address = parse_sentinel(URL, {})
    assert address.sentinels == (("h1", 26380), ("h2", DEFAULT_SENTINEL_PORT), ("::1", 26381))
    assert (address.service, address.db, address.password) == ("mymaster", 3, None)


def test_the_db_defaults_to_0_and_the_password_is_the_servers() -> None:
    address = parse_sentinel("redis+sentinel://:s%40cret@h1/svc", {SENTINEL_PASSWORD_ENV: "sp"})
    assert (address.db, address.password, address.username) == (0, "s@cret", None)
    assert address.sentinel_password == "sp"
    assert "s@cret" not in repr(address)
    assert "sp" not in repr(address).replace("sentinels", "")


def test_is_sentinel_only_for_the_sentinel_scheme() -> None:
    assert is_sentinel("REDIS+SENTINEL://h/s")
    assert not is_sentinel("redis://127.0.0.1:6379/0")


@pytest.mark.parametrize(
    ("url", "part"),
    [
        ("redis+sentinel:///mymaster/0", "the host list"),
        ("redis+sentinel://h1,,h2/mymaster", "the host list"),
        ("redis+sentinel://h1:abc/mymaster", "the Sentinel `h1:abc`"),
        ("redis+sentinel://h1:70000/mymaster", "the Sentinel `h1:70000`"),
        ("redis+sentinel://:26379/mymaster", "the Sentinel `:26379`"),
        ("redis+sentinel://h1:26379", "the service name"),
        ("redis+sentinel://h1:26379/mymaster/x", "the database `x`"),
        ("redis+sentinel://h1/mymaster/0/1", "the database `0/1`"),
        ("redis+sentinel://h1/mymaster?sentinel_password=x", "the query string"),
    ],
)
def test_a_bad_address_names_the_part_that_is_wrong(url: str, part: str) -> None:
    with pytest.raises(ConfigError, match="form: redis\\+sentinel://") as caught:
        parse_sentinel(url, {})
    assert f"{part} is wrong" in str(caught.value)


def test_errors_never_carry_the_password() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_sentinel("redis+sentinel://:hunter2@h1:x/svc", {})
    assert "hunter2" not in str(caught.value)
    assert "***" in str(caught.value)
    with pytest.raises(ConfigError) as plain:
        sync_client("redis://:hunter2@h1:notaport/0")
    assert "hunter2" not in str(plain.value)
    assert "notadb" not in describe("redis+sentinel://h/s")


def test_a_plain_url_gives_a_plain_client_with_the_kwargs() -> None:
    client = sync_client("redis://127.0.0.1:1/2", socket_timeout=3)
    kwargs = client.connection_pool.connection_kwargs
    assert (kwargs["port"], kwargs["db"], kwargs["socket_timeout"]) == (1, 2, 3)
    assert not isinstance(client.connection_pool, SentinelConnectionPool)


def test_a_sentinel_url_gives_a_sentinel_pool_with_the_kwargs() -> None:
    client = sync_client("redis+sentinel://:pw@h1,h2/svc/4", socket_timeout=7, env={})
    pool = client.connection_pool
    assert isinstance(pool, SentinelConnectionPool)
    assert pool.service_name == "svc"
    assert pool.connection_kwargs["db"] == 4
    assert pool.connection_kwargs["password"] == "pw"
    assert pool.connection_kwargs["socket_timeout"] == 7
    asking = pool.sentinel_manager.sentinels[0].connection_pool.connection_kwargs
    assert asking["socket_timeout"] == SENTINEL_TIMEOUT_S
    assert asking["password"] is None


def test_async_clients_plain_blocking_and_sentinel() -> None:
    plain = async_client("redis://127.0.0.1:1/0", blocking=True, max_connections=3, timeout=2)
    assert isinstance(plain.connection_pool, aioredis.BlockingConnectionPool)
    over = async_client("redis+sentinel://h1/svc", blocking=True, max_connections=3, env={})
    assert isinstance(over.connection_pool, AsyncSentinelPool)
    assert isinstance(over.connection_pool, aioredis.BlockingConnectionPool)
    assert over.connection_pool.max_connections == 3
    free = async_client("redis+sentinel://h1/svc", env={})
    assert not isinstance(free.connection_pool, aioredis.BlockingConnectionPool)


def test_describe_spells_out_a_sentinel_address_and_redacts_a_plain_one() -> None:
    assert describe("redis+sentinel://:pw@h1,h2:1/svc/2") == (
        "sentinel service 'svc' via h1:26379,h2:1 (db 2)"
    )
    assert describe("redis://:pw@h:6379/0") == "redis://:***@h:6379/0"
    assert SentinelAddress((("h", 1),), "s").describe().startswith("sentinel service 's'")


def test_execute_replicated_refuses_a_transaction_and_bad_figures() -> None:
    client = redis.Redis(port=1)
    with pytest.raises(ValueError, match="transaction=False"):
        execute_replicated(client.pipeline())
    with pytest.raises(ValueError, match="replicas must be"):
        execute_replicated(client.pipeline(transaction=False), replicas=0)


def test_replication_is_unreplicated_only_with_a_replica_that_did_not_confirm() -> None:
    assert Replication(0, 1, 1).unreplicated
    assert not Replication(0, 1, 1).confirmed
    assert not Replication(0, 0, 1).unreplicated  # no replica: nothing to wait for
    assert Replication(1, 1, 1).confirmed
    assert not Replication(1, 1, 1).unreplicated


def test_a_command_names_the_sentinels_it_could_not_reach() -> None:
    from ground.errors import RedisUnavailable
    from ground.proc import free_port
    from ground.settings import RedisLocation
    from herald.options import connect

    url = f"redis+sentinel://:hunter2@127.0.0.1:{free_port()}/herald/0"
    with pytest.raises(RedisUnavailable, match="No master found for 'herald'") as caught:
        connect(RedisLocation(url, "given explicitly"), timeout=1)
    assert "hunter2" not in str(caught.value)
    assert "redis+sentinel://:***@127.0.0.1" in str(caught.value)
