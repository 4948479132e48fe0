"""Rate limits behave like Discord's: per webhook, per channel (shared), global, and storms.

Sleeping `retry_after` below is honouring the protocol under test, not synchronisation.
"""

import time

import httpx
import pytest

from ground.proc import wait_until
from ground.rates import Rate
from sandbox.ratelimit import RateLimiter
from sandbox.testing import SandboxHandle, run_sandbox

MSG = {"content": "tick", "allowed_mentions": {"parse": []}}


def test_a_burst_of_20_gets_exactly_5_through_and_honouring_retry_after_works(
    sandbox: SandboxHandle, client: httpx.Client
) -> None:
    url = sandbox.webhook_url("trading-alerts")
    responses = [client.post(url, json=MSG) for _ in range(20)]
    accepted = [r for r in responses if r.status_code == 204]
    limited = [r for r in responses if r.status_code == 429]
    assert len(accepted) == 5
    assert len(limited) == 15
    assert responses[:5] == accepted  # the first five, in order

    assert [int(r.headers["X-RateLimit-Remaining"]) for r in accepted] == [4, 3, 2, 1, 0]
    resets = [float(r.headers["X-RateLimit-Reset-After"]) for r in accepted]
    assert resets == sorted(resets, reverse=True)
    assert resets[0] > resets[-1]
    assert 0 < resets[0] <= 2.0
    for r in accepted:
        assert r.headers["X-RateLimit-Limit"] == "5"
        assert float(r.headers["X-RateLimit-Reset"]) == pytest.approx(time.time() + 2.0, abs=2.0)
        assert r.headers["X-RateLimit-Bucket"] == accepted[0].headers["X-RateLimit-Bucket"]

    for r in limited:
        body = r.json()
        assert body["message"] == "You are being rate limited."
        assert body["global"] is False
        assert 0 < body["retry_after"] <= 2.0
        assert r.headers["X-RateLimit-Scope"] == "user"
        assert r.headers["Via"] == "1.1 google"
        assert int(r.headers["Retry-After"]) >= 1
        assert r.headers["X-RateLimit-Remaining"] == "0"
    retry_afters = [r.json()["retry_after"] for r in limited]
    assert retry_afters == sorted(retry_afters, reverse=True)  # counts down as time passes

    # Honour retry_after: every 429 is followed by a wait of exactly what it said.
    delivered = 0
    deadline = time.monotonic() + 10
    while delivered < 5 and time.monotonic() < deadline:
        response = client.post(url, json=MSG)
        if response.status_code == 429:
            time.sleep(response.json()["retry_after"])
        else:
            assert response.status_code == 204
            delivered += 1
    assert delivered == 5
    assert sandbox.stats()["messages"] == 10


def test_remaining_zero_then_sleeping_reset_after_lets_the_next_one_through(
    sandbox: SandboxHandle, client: httpx.Client
) -> None:
    url = sandbox.webhook_url("system-status")
    last = None
    for _ in range(5):
        last = client.post(url, json=MSG)
    assert last is not None
    assert last.headers["X-RateLimit-Remaining"] == "0"
    time.sleep(float(last.headers["X-RateLimit-Reset-After"]))
    assert client.post(url, json=MSG).status_code == 204


def test_invalid_requests_count_toward_the_limit(
    sandbox: SandboxHandle, client: httpx.Client
) -> None:
    url = sandbox.webhook_url("market-data")
    wrong = url.rsplit("/", 1)[0] + "/wrong"
    assert [client.post(wrong, json=MSG).status_code for _ in range(3)] == [401] * 3
    assert [client.post(url, json={}).status_code for _ in range(2)] == [400] * 2
    response = client.post(url, json=MSG)
    assert response.status_code == 429
    assert "X-RateLimit-Remaining" in response.headers


def test_webhooks_have_separate_buckets(sandbox: SandboxHandle, client: httpx.Client) -> None:
    for channel in ("system-status", "maintenance"):
        codes = [client.post(sandbox.webhook_url(channel), json=MSG).status_code for _ in range(6)]
        assert codes == [204] * 5 + [429]


def test_the_channel_limit_is_shared_by_its_webhooks_and_hidden_from_remaining(
    client: httpx.Client,
) -> None:
    hooks = ["900000000000000001:tok-a:ops-room", "900000000000000002:tok-b:ops-room"]
    with run_sandbox(channel_rate="3/60s", webhooks=hooks) as sandbox:
        a = f"{sandbox.base_url}/api/webhooks/900000000000000001/tok-a"
        b = f"{sandbox.base_url}/api/webhooks/900000000000000002/tok-b"
        assert [client.post(a, json=MSG).status_code for _ in range(2)] == [204, 204]
        ok = client.post(b, json=MSG)
        assert ok.status_code == 204
        assert ok.headers["X-RateLimit-Remaining"] == "4"  # b's own bucket looks fine...
        limited = client.post(b, json=MSG)  # ...but the channel is full: a hidden sub-limit
        assert limited.status_code == 429
        assert limited.headers["X-RateLimit-Scope"] == "shared"
        assert limited.json()["global"] is False
        assert 55 < limited.json()["retry_after"] <= 60
        assert sandbox.stats()["rate_limited_shared"] == 1
        assert len(sandbox.messages("ops-room")) == 3


def test_the_global_limit_spans_all_webhooks(client: httpx.Client) -> None:
    with run_sandbox(global_rate="10/1s", webhook_rate=None, channel_rate=None) as sandbox:
        urls = list(sandbox.webhook_urls().values())
        responses = [client.post(urls[i % len(urls)], json=MSG) for i in range(13)]
        assert [r.status_code for r in responses] == [204] * 10 + [429] * 3
        limited = responses[-1]
        assert limited.json()["global"] is True
        assert limited.headers["X-RateLimit-Scope"] == "global"
        assert limited.headers["X-RateLimit-Global"] == "true"
        time.sleep(limited.json()["retry_after"])
        assert client.post(urls[0], json=MSG).status_code == 204
        assert sandbox.stats()["rate_limited_global"] == 3


@pytest.mark.parametrize("is_global", [False, True], ids=["storm", "global-storm"])
def test_a_429_storm_answers_everything_until_it_ends(
    sandbox: SandboxHandle, client: httpx.Client, is_global: bool
) -> None:
    sandbox.set_faults(storm_seconds=60, storm_retry_after=0.5, storm_global=is_global)
    for url in sandbox.webhook_urls().values():
        response = client.post(url, json=MSG)
        assert response.status_code == 429
        assert response.json() == {
            "message": "You are being rate limited.",
            "retry_after": 0.5,
            "global": is_global,
        }
        assert response.headers["X-RateLimit-Scope"] == ("global" if is_global else "user")
        assert response.headers["Via"] == "1.1 google"
        assert response.headers["X-RateLimit-Remaining"] == "0"
    assert sandbox.stats()["storm_429"] == 5
    sandbox.set_faults(storm_seconds=0)
    assert client.post(sandbox.webhook_url("maintenance"), json=MSG).status_code == 204


def test_a_cloudflare_storm_has_no_via_header(sandbox: SandboxHandle, client: httpx.Client) -> None:
    sandbox.set_faults(storm_seconds=60, storm_retry_after=2, storm_via=False)
    response = client.post(sandbox.webhook_url("maintenance"), json=MSG)
    assert response.status_code == 429
    assert "Via" not in response.headers
    assert "X-RateLimit-Bucket" not in response.headers
    assert response.headers["Retry-After"] == "2"


def test_a_storm_ends_on_its_own(sandbox: SandboxHandle, client: httpx.Client) -> None:
    sandbox.set_faults(storm_seconds=0.3, storm_retry_after=0.1)
    url = sandbox.webhook_url("maintenance")
    assert client.post(url, json=MSG).status_code == 429
    wait_until(lambda: sandbox.stats()["faults"]["storm"] is None, 5, "the storm to end")
    assert client.post(url, json=MSG).status_code == 204


def test_no_limits_means_no_429(client: httpx.Client) -> None:
    with run_sandbox(no_limits=True) as sandbox:
        url = sandbox.webhook_url("market-data")
        assert {client.post(url, json=MSG).status_code for _ in range(60)} == {204}


def test_limits_can_change_at_run_time(sandbox: SandboxHandle, client: httpx.Client) -> None:
    assert sandbox.set_limits(webhook="2/10s", global_=None) == {
        "webhook": "2/10s",
        "channel": "30/60s",
        "global": None,
    }
    url = sandbox.webhook_url("market-data")
    assert [client.post(url, json=MSG).status_code for _ in range(3)] == [204, 204, 429]


def test_window_frees_one_slot_exactly_one_period_after_use() -> None:
    now = [100.0]
    limiter = RateLimiter(Rate(2, 1.0), None, None, clock=lambda: now[0])
    assert limiter.admit("w", "c")[0] is None
    now[0] = 100.4
    assert limiter.admit("w", "c")[0] is None
    blocked, _ = limiter.admit("w", "c")
    assert blocked is not None
    assert blocked.reset_after == pytest.approx(0.6)
    now[0] = 101.0  # the first slot frees at exactly 101.0
    allowed, shown = limiter.admit("w", "c")
    assert allowed is None
    assert shown is not None
    assert shown.remaining == 0
    assert shown.reset_after == pytest.approx(0.4)
