"""RateBudget against a real redis-server: exact windows, Discord feedback, concurrency."""

import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from ground.errors import RedisUnavailable
from ground.proc import free_port, wait_until
from herald.redis_server import RedisServer
from worker import ratelimit
from worker.discord import RateHeaders
from worker.ratelimit import RateBudget, Window

PREFIX = "herald:rl:"
# Slack for the time between a call returning and the test reading its own clock.
EPS = 0.05

MakeBudget = Callable[..., RateBudget]


@pytest.fixture
def client(redis_server: RedisServer) -> Iterator["redis.Redis"]:
    r = redis_server.client()
    yield r
    r.close()


@pytest.fixture
def make(client: "redis.Redis") -> MakeBudget:
    def factory(*windows: Window) -> RateBudget:
        return RateBudget(client, windows=windows or ratelimit.DEFAULT_WINDOWS)

    return factory


def reserve_until_granted(budget: RateBudget, key: str) -> None:
    """The caller's protocol: sleep what reserve says, then ask again."""
    while (wait := budget.reserve(key)) > 0:
        time.sleep(wait)


# --- validation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("limit", "seconds", "bad"),
    [
        (0, 1.0, "0"),
        (-3, 1.0, "-3"),
        (2.5, 1.0, "2.5"),
        (True, 1.0, "True"),
        (5, 0, "0"),
        (5, -2.0, "-2.0"),
        (5, math.nan, "nan"),
        (5, math.inf, "inf"),
        (5, "2", "'2'"),
    ],
)
def test_window_rejects_bad_values_naming_them(limit: object, seconds: object, bad: str) -> None:
    with pytest.raises(ValueError, match="Window") as info:
        Window(limit, seconds)  # type: ignore[arg-type]
    assert bad in str(info.value)


def test_budget_rejects_no_windows_and_duplicate_lengths(client: "redis.Redis") -> None:
    with pytest.raises(ValueError, match="at least one"):
        RateBudget(client, windows=())
    with pytest.raises(ValueError, match="same length"):
        RateBudget(client, windows=(Window(5, 2.0), Window(3, 2.0)))


def test_key_that_looks_like_a_url_is_refused_without_echoing_it(make: MakeBudget) -> None:
    token = "FAKE-TOKEN-abcdefghijklmnopqrstuvwxyz0123456789"
    with pytest.raises(ValueError, match="webhook id") as info:
        make().reserve(f"https://discord.com/api/webhooks/1/{token}")
    assert token not in str(info.value)
    with pytest.raises(ValueError, match="non-empty"):
        make().reserve("")


@pytest.mark.parametrize("bad", [-1.0, math.nan, math.inf])
def test_penalize_and_pause_reject_bad_durations(make: MakeBudget, bad: float) -> None:
    budget = make()
    with pytest.raises(ValueError, match="retry_after"):
        budget.penalize("k", bad)
    with pytest.raises(ValueError, match="seconds"):
        budget.pause_all(bad)


# --- windows ------------------------------------------------------------------------


def test_five_allowed_then_sixth_waits_until_first_leaves(make: MakeBudget) -> None:
    budget = make(Window(5, 2.0))
    start = time.monotonic()
    assert [budget.reserve("k") for _ in range(5)] == [0.0] * 5
    wait = budget.reserve("k")
    elapsed = time.monotonic() - start
    assert 2.0 - elapsed - EPS <= wait <= 2.0
    # A refused reserve records nothing: still exactly 5 in the window.
    assert budget.reserve("k") > 0
    assert budget.state("k")["windows"][0]["sent"] == 5


def test_the_returned_wait_is_exact(make: MakeBudget) -> None:
    budget = make(Window(2, 0.3))
    assert budget.reserve("k") == budget.reserve("k") == 0.0
    wait = budget.reserve("k")
    time.sleep(max(0.0, wait - 0.1))
    assert budget.reserve("k") > 0  # sleeping less is not enough
    reserve_until_granted(budget, "k")  # sleeping what it says is


def test_window_slides_rather_than_resetting(make: MakeBudget) -> None:
    budget = make(Window(2, 0.4))
    assert budget.reserve("k") == 0.0
    time.sleep(0.2)  # advance the clock so the two sends are 0.2 s apart
    assert budget.reserve("k") == 0.0
    reserve_until_granted(budget, "k")  # at ~0.4 s: the first send has left the window
    # A fixed window would now allow a fresh pair; a sliding one waits for the second.
    wait = budget.reserve("k")
    assert 0.1 < wait <= 0.2 + EPS


def test_every_window_binds(make: MakeBudget) -> None:
    budget = make(Window(2, 0.2), Window(3, 30.0))
    assert budget.reserve("k") == budget.reserve("k") == 0.0
    reserve_until_granted(budget, "k")
    assert 29.0 < budget.reserve("k") <= 30.0
    short, long = [(w["limit"], w["sent"]) for w in budget.state("k")["windows"]]
    assert long == (3, 3)
    # the third went out once the first left the 0.2 s window; the second is still in it
    # only if the test was descheduled between the first two (a loaded machine)
    assert short in {(2, 1), (2, 2)}


def test_keys_are_independent(make: MakeBudget) -> None:
    budget = make(Window(1, 10.0))
    assert budget.reserve("a") == 0.0
    assert budget.reserve("a") > 0
    assert budget.reserve("b") == 0.0


# --- Discord feedback ---------------------------------------------------------------


def test_observe_remaining_zero_blocks_until_reset(make: MakeBudget) -> None:
    budget = make()
    budget.observe("k", RateHeaders(limit=5, remaining=0, reset_after=1.5))
    wait = budget.reserve("k")
    assert 1.5 - EPS < wait <= 1.5
    assert budget.blocked_until("k") is not None
    assert budget.reserve("other") == 0.0
    assert budget.blocked_until("other") is None


def test_observe_remaining_zero_falls_back_to_reset_epoch(make: MakeBudget) -> None:
    budget = make()
    budget.observe("k", RateHeaders(remaining=0, reset=time.time() + 1.0))
    assert 0.5 < budget.reserve("k") <= 1.0 + EPS


def test_observe_with_remaining_does_not_block(make: MakeBudget) -> None:
    budget = make()
    budget.observe("k", RateHeaders(limit=5, remaining=3, reset_after=1.5))
    assert budget.reserve("k") == 0.0
    assert budget.blocked_until("k") is None


def test_observe_learns_a_lower_limit_and_forgets_it(
    make: MakeBudget, client: "redis.Redis"
) -> None:
    budget = make(Window(5, 2.0), Window(30, 60.0))
    budget.observe("k", RateHeaders(limit=2, remaining=1, reset_after=2.0))
    assert budget.reserve("k") == budget.reserve("k") == 0.0
    assert budget.reserve("k") > 1.9
    state = budget.state("k")
    assert state["learned_limit"] == 2
    assert [w["limit"] for w in state["windows"]] == [2, 30]
    assert 590_000 < client.pttl(f"{PREFIX}wh:k:limit") <= 600_000
    # Discord says 5 again: the override goes, the full budget returns.
    budget.observe("k", RateHeaders(limit=5, remaining=3, reset_after=1.0))
    assert budget.state("k")["learned_limit"] is None
    assert [budget.reserve("k") for _ in range(3)] == [0.0] * 3


def test_penalize_blocks_and_never_shortens(make: MakeBudget) -> None:
    budget = make()
    budget.penalize("k", 1.0)
    budget.penalize("k", 0.1)
    assert 1.0 - EPS < budget.reserve("k") <= 1.0
    assert budget.reserve("other") == 0.0


def test_pause_all_blocks_every_key(make: MakeBudget) -> None:
    budget = make()
    budget.pause_all(1.0)
    for key in ("a", "never-seen"):
        assert 1.0 - EPS < budget.reserve(key) <= 1.0
        until = budget.blocked_until(key)
        assert until is not None
        assert until == budget.state(key)["blocked_until"]


def test_pause_is_shared_by_every_budget_on_the_prefix(
    make: MakeBudget, redis_server: RedisServer
) -> None:
    make().pause_all(1.0)
    with redis_server.client() as other_process:
        assert RateBudget(other_process).reserve("x") > 0.9


def test_block_and_window_take_the_later_of_the_two(make: MakeBudget) -> None:
    budget = make(Window(1, 2.0))
    assert budget.reserve("k") == 0.0
    budget.penalize("k", 0.5)
    assert budget.reserve("k") > 1.9


def test_state_snapshot(make: MakeBudget) -> None:
    budget = make(Window(2, 1.0), Window(10, 60.0))
    budget.reserve("k")
    state = budget.state("k")
    assert state["key"] == "k"
    assert state["windows"] == [
        {"limit": 2, "seconds": 1.0, "sent": 1},
        {"limit": 10, "seconds": 60.0, "sent": 1},
    ]
    assert state["blocked_until"] is None
    assert state["learned_limit"] is None
    assert state["next_allowed"] == state["now"]
    budget.reserve("k")
    state = budget.state("k")
    assert state["now"] < state["next_allowed"] <= state["now"] + 1.0


# --- expiry -------------------------------------------------------------------------


def test_unused_webhook_leaves_nothing_behind(make: MakeBudget, client: "redis.Redis") -> None:
    budget = make(Window(2, 0.2), Window(3, 0.4))
    for _ in range(3):
        budget.reserve("k")
    budget.penalize("k", 0.3)
    budget.pause_all(0.3)
    keys = client.keys(f"{PREFIX}*")
    assert len(keys) == 4  # two windows, the block, the global pause
    assert all(0 < client.pttl(k) <= 401 for k in keys)
    wait_until(lambda: not client.keys(f"{PREFIX}*"), 3.0, "rate-limit keys to expire")


def test_learned_limit_expires(make: MakeBudget, client: "redis.Redis") -> None:
    make().observe("k", RateHeaders(limit=1))
    assert 0 < client.pttl(f"{PREFIX}wh:k:limit") <= 600_000


def test_redis_down_is_a_herald_error() -> None:
    dead = redis.Redis(port=free_port(), retry=Retry(NoBackoff(), 0))
    budget = RateBudget(dead)
    with pytest.raises(RedisUnavailable, match="Redis unreachable"):
        budget.reserve("k")


# --- concurrency --------------------------------------------------------------------


def test_threads_hammering_one_key_never_exceed_the_window(redis_server: RedisServer) -> None:
    """8 workers, each with its own connection, race for 5 sends per 0.5 s. A one-hour
    audit window keeps every grant with its Redis timestamp, so the check is exact; a
    client-side check (immune to the audit's internals) backs it up."""
    limit, span = 5, 0.5
    windows = (Window(limit, span), Window(100_000, 3600.0))
    grants: list[tuple[float, float]] = []  # (before, after) the granting call
    lock = threading.Lock()
    start = threading.Barrier(8)

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        with redis_server.client() as r:
            budget = RateBudget(r, windows=windows)
            start.wait()
            for _ in range(50):
                before = time.time()
                wait = budget.reserve("hot")
                after = time.time()
                if wait == 0:
                    with lock:
                        grants.append((before, after))
                else:
                    # Wake anywhere up to the boundary: maximum contention around it.
                    time.sleep(rng.uniform(0, wait))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    with redis_server.client() as r:
        audit = [
            int(s) for _, s in r.zrange(f"{PREFIX}wh:hot:w:3600000000", 0, -1, withscores=True)
        ]
    assert len(audit) == len(grants)  # every grant recorded, no refusal recorded
    assert len(grants) >= 3 * limit, len(grants)  # the test spanned several windows
    span_us = int(span * 1_000_000)
    for i in range(len(audit) - limit):
        assert audit[i + limit] - audit[i] >= span_us, f"{limit + 1} sends within {span}s"
    # Client side: the true grant time lies within each call, so limit+1 calls that all
    # fit inside one span would be a certain breach.
    for before, _ in grants:
        inside = [g for g in grants if g[0] >= before and g[1] - before < span]
        assert len(inside) <= limit


# --- end to end ---------------------------------------------------------------------


class FakeDiscord:
    """An in-memory webhook: at most `limit` requests in any 2 s, Discord-style headers."""

    def __init__(self, limit: int, span: float = 2.0) -> None:
        self.limit, self.span = limit, span
        self.sent: deque[float] = deque()
        self.delivered = 0
        self.rejected = 0

    def post(self) -> tuple[int, RateHeaders]:
        now = time.monotonic()
        while self.sent and self.sent[0] <= now - self.span:
            self.sent.popleft()
        if len(self.sent) >= self.limit:
            self.rejected += 1
            return 429, self._headers(now)
        self.sent.append(now)
        self.delivered += 1
        return 200, self._headers(now)

    def _headers(self, now: float) -> RateHeaders:
        remaining = max(0, self.limit - len(self.sent))
        reset_after = self.sent[0] + self.span - now if self.sent else 0.0
        return RateHeaders(limit=self.limit, remaining=remaining, reset_after=reset_after)


@pytest.mark.parametrize("discord_limit", [5, 3])
def test_client_loop_gets_no_429s(client: "redis.Redis", discord_limit: int) -> None:
    """The worker's protocol against a Discord-like limiter for ~3 s: reserve, sleep the
    wait, send, observe. With limit 3 the budget must learn it from the headers."""
    budget = RateBudget(client)  # default windows: 5 / 2 s and 30 / 60 s
    discord = FakeDiscord(discord_limit)
    deadline = time.monotonic() + 3.0
    while time.monotonic() < deadline:
        wait = budget.reserve("wh")
        if wait > 0:
            time.sleep(min(wait, max(0.0, deadline - time.monotonic())))
            continue
        status, rate = discord.post()
        budget.observe("wh", rate)
        if status == 429:
            budget.penalize("wh", rate.reset_after or 1.0)
    assert discord.rejected == 0
    assert discord.delivered >= 2 * discord_limit  # it kept sending at the allowed pace


def test_all_is_honest() -> None:
    for name in ratelimit.__all__:
        assert hasattr(ratelimit, name), name
