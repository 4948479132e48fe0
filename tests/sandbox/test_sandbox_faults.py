"""Fault injection: 5xx answers, dropped connections, slow answers; seeded and replayable."""

import contextlib
import logging
import time

import httpx
import pytest

from sandbox.testing import SandboxHandle, run_sandbox

MSG = {"content": "x", "allowed_mentions": {"parse": []}}


def test_fail_rate_one_answers_5xx_and_keeps_nothing(client: httpx.Client) -> None:
    with run_sandbox(no_limits=True, fail_rate=1.0, seed=1) as sandbox:
        url = sandbox.webhook_url("system-status")
        statuses = [client.post(url, json=MSG).status_code for _ in range(30)]
        assert set(statuses) <= {500, 502, 503}
        assert len(set(statuses)) > 1  # a mix, as in real outages
        stats = sandbox.stats()
        assert (stats["faults_5xx"], stats["messages"], stats["faults_injected"]) == (30, 0, 30)


def test_faults_are_replayable_with_the_same_seed(client: httpx.Client) -> None:
    runs = []
    for _ in range(2):
        with run_sandbox(no_limits=True, fail_rate=0.5, seed=42) as sandbox:
            url = sandbox.webhook_url("system-status")
            runs.append([client.post(url, json=MSG).status_code for _ in range(20)])
    assert runs[0] == runs[1]
    assert {204} < set(runs[0])


def test_dropped_connections_close_without_an_answer(client: httpx.Client) -> None:
    with run_sandbox(no_limits=True, drop_rate=1.0) as sandbox:
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            client.post(sandbox.webhook_url("system-status"), json=MSG)
        assert sandbox.stats()["faults_dropped"] == 1
        sandbox.set_faults(drop_rate=0.0)
        assert client.post(sandbox.webhook_url("system-status"), json=MSG).status_code == 204


def test_slow_answers_are_slow_and_still_delivered(client: httpx.Client) -> None:
    with run_sandbox(no_limits=True, slow_rate=1.0, slow_seconds=0.3) as sandbox:
        started = time.monotonic()
        response = client.post(sandbox.webhook_url("system-status") + "?wait=true", json=MSG)
        assert time.monotonic() - started >= 0.3
        assert response.status_code == 200
        assert sandbox.stats()["faults_slow"] == 1


def test_faults_change_at_run_time_and_reset_restores_start_up(
    sandbox: SandboxHandle, client: httpx.Client
) -> None:
    url = sandbox.webhook_url("maintenance")
    assert sandbox.set_faults(fail_rate=1.0, fail_statuses=(503,))["fail_statuses"] == [503]
    assert client.post(url, json=MSG).status_code == 503
    sandbox.reset()
    assert client.post(url, json=MSG).status_code == 204
    assert sandbox.stats()["faults_5xx"] == 0


def test_bad_fault_settings_are_refused_with_a_reason(sandbox: SandboxHandle) -> None:
    with pytest.raises(RuntimeError, match="fail_rate must be between 0 and 1"):
        sandbox.set_faults(fail_rate=2.0)
    response = sandbox.client.post("/admin/faults", json={"fial_rate": 0.1})
    assert response.status_code == 400
    assert "unknown fault setting" in response.json()["error"]


def test_tokens_never_reach_the_logs(
    client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with run_sandbox(no_limits=True, drop_rate=0.5, seed=3) as sandbox:
        for url in sandbox.webhook_urls().values():
            for body in (MSG, {}, {"embeds": [{"title": "t" * 300}]}):
                with contextlib.suppress(httpx.HTTPError):
                    client.post(url, json=body)
            with contextlib.suppress(httpx.HTTPError):
                client.post(url.rsplit("/", 1)[0] + "/wrong-token", json=MSG)
    # The client (httpx) logs its own URLs; what the sandbox and aiohttp's server log must not.
    server_side = "\n".join(
        r.getMessage() + (r.exc_text or "")
        for r in caplog.records
        if r.name.startswith(("sandbox", "aiohttp"))
    )
    assert "sandbox-token-" not in server_side
    assert "/api/webhooks/100000000000000001/***" in server_side  # paths are logged, redacted
