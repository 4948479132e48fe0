"""`herald publish KIND --field ...` for every kind, its errors, and `--direct`."""

import json
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest

from ground import keyspace
from ground.channels import webhook_env
from ground.keyspace import PAYLOAD_FIELD
from herald.cli import main
from producer import stream_key
from schemas import EVENT_TYPES, decode
from tests.factories import sample_events

HERALD = str(Path(sys.executable).with_name("herald"))


def cli_args(event) -> list[str]:
    """The command line that publishes `event`: one flag per field, lists repeated."""
    fields = msgspec.to_builtins(event)
    kind = fields.pop("kind")
    args = [kind.replace("_", "-")]
    for name, value in fields.items():
        if value is None:
            continue
        for item in value if isinstance(value, list | tuple) else [value]:
            args += ["--" + name.replace("_", "-"), str(item)]
    return args


def test_every_kind_round_trips_through_the_cli(redis_server, capsys):
    events = sample_events()
    assert {type(e) for e in events} == set(EVENT_TYPES)
    for event in events:
        code = main(
            ["publish", *cli_args(event), "--redis-url", redis_server.url, "--source", "ci"]
        )
        assert code == 0, event
        event_id = capsys.readouterr().out.strip()
        assert stream_key(decode_last(redis_server, event_id).lane)
    # every event arrived, decoding to exactly what was passed on the command line
    received = []
    for lane in ("critical", "normal", "bulk"):
        received += [
            decode(f[PAYLOAD_FIELD])
            for _, f in redis_server.client().xrange(f"herald:events:{lane}")
        ]
    assert sorted(type(e.event).__name__ for e in received) == sorted(
        type(e).__name__ for e in events
    )
    by_kind = {e.kind: e.event for e in received}
    for event in events:
        assert by_kind[event.kind()] == event
    assert all(e.source == "ci" for e in received)


def decode_last(redis_server, event_id: str):
    for lane in ("critical", "normal", "bulk"):
        for _, fields in redis_server.client().xrange(f"herald:events:{lane}"):
            envelope = decode(fields[PAYLOAD_FIELD])
            if envelope.id == event_id:
                return envelope
    raise AssertionError(f"{event_id} not in any stream")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--commit", "xyz!"], "--commit: Expected `str` matching regex"),
        (["--duration", "9x3s"], "--duration: not a duration: '9x3s'"),
        (["--artifacts", "ftp://x"], "--artifacts: Expected `str` matching regex"),
        (["--duration", "-PT5S"], "--duration: must be between 0 and 366 days"),
    ],
)
def test_bad_input_fails_with_one_line_naming_the_flag(redis_server, args, message):
    base = {"--repository": "org/repo", "--commit": "abc1234", "--duration": "93s"}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    flat = [f"{flag}={value}" for flag, value in base.items()]
    done = subprocess.run(
        [HERALD, "publish", "build-success", *flat, "--redis-url", redis_server.url],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_unreachable_redis_fails_clearly_without_the_password():
    done = subprocess.run(
        [
            HERALD,
            "publish",
            "build-success",
            "--repository",
            "org/repo",
            "--commit",
            "abc1234",
            "--duration",
            "93s",
            "--redis-url",
            "redis://:hunter2@127.0.0.1:1/0",
            "--timeout",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert "cannot reach Redis at redis://:***@127.0.0.1:1/0" in done.stderr
    assert "hunter2" not in done.stderr


def test_missing_required_field_is_an_argparse_error():
    done = subprocess.run(
        [HERALD, "publish", "trade-executed", "--pair", "XRP/USD"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert "the following arguments are required: --side, --amount" in done.stderr


def test_direct_posts_through_the_renderer_and_waits_out_a_429(tmp_path):
    from sandbox.testing import run_sandbox

    with run_sandbox() as sandbox:
        # long enough to outlast the CLI's start-up on a loaded machine (seen > 1 s)
        sandbox.set_faults(storm_seconds=6.0, storm_retry_after=0.5)
        env = {webhook_env(c): u for c, u in sandbox.webhook_urls().items()}
        env["PATH"] = str(Path(sys.executable).parent)
        done = subprocess.run(
            [
                HERALD,
                "publish",
                "deployment-failed",
                "--service",
                "api",
                "--server",
                "prod-1",
                "--service-status",
                "failed",
                "--direct",
                "--print-json",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        event_id = json.loads(done.stdout)["id"]
        # deployment_failed routes to #critical-alerts and #system-status
        for channel in ("critical-alerts", "system-status"):
            [message] = sandbox.messages(channel)
            assert event_id in message["embeds"][0]["footer"]["text"]
            assert message["allowed_mentions"] == {"parse": []}
        assert sandbox.stats()["storm_429"] >= 1
        assert "sandbox-token" not in done.stdout + done.stderr


RECOVERED = ["service-recovered", "--service", "api", "--server", "prod-1", "--down-for", "95s"]


def test_channel_flags_override_the_route(redis_server, capsys):
    args = [*RECOVERED, "--channel", "system-status", "--channel", "maintenance"]
    assert main(["publish", *args, "--redis-url", redis_server.url]) == 0
    envelope = decode_last(redis_server, capsys.readouterr().out.strip())
    assert envelope.channels == ("system-status", "maintenance")
    assert envelope.event.down_for.total_seconds() == 95
    assert main(["publish", *RECOVERED, "--redis-url", redis_server.url]) == 0
    assert decode_last(redis_server, capsys.readouterr().out.strip()).channels is None


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--channel", "critical"], "argument --channel: invalid choice: 'critical'"),
        (["--channel", "maintenance", "--channel", "maintenance"], "'maintenance' given twice"),
    ],
)
def test_a_bad_channel_fails_with_one_line(redis_server, flags, message):
    done = subprocess.run(
        [HERALD, "publish", *RECOVERED, *flags, "--redis-url", redis_server.url],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert message in done.stderr
    assert redis_server.client().keys("herald:events:*") == []


def test_heartbeat_sets_the_key_and_prints_the_moment(redis_server, capsys):
    assert (
        main(["publish", "heartbeat", "--name", "ci@runner-1", "--redis-url", redis_server.url])
        == 0
    )
    printed = int(capsys.readouterr().out.strip())
    client = redis_server.client()
    assert int(client.get(keyspace.heartbeat("ci@runner-1"))) == printed
    assert 0 < client.ttl(keyspace.heartbeat("ci@runner-1")) <= keyspace.HEARTBEAT_TTL_S


def test_heartbeat_fails_loudly_for_a_bad_name_or_an_unreachable_redis():
    bad = subprocess.run(
        [HERALD, "publish", "heartbeat", "--name", "two words"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert bad.returncode == 2
    assert "'two words' is not a valid name: use 1-100 characters" in bad.stderr
    away = subprocess.run(
        [
            HERALD, "publish", "heartbeat", "--name", "ci",
            "--redis-url", "redis://:hunter2@127.0.0.1:1/0", "--timeout", "1",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )  # fmt: skip
    assert away.returncode == 2
    assert "cannot reach Redis at redis://:***@127.0.0.1:1/0" in away.stderr
    assert "hunter2" not in away.stderr


def test_direct_honours_the_channel_flag(tmp_path):
    from sandbox.testing import run_sandbox

    with run_sandbox() as sandbox:
        env = {webhook_env(c): u for c, u in sandbox.webhook_urls().items()}
        env["PATH"] = str(Path(sys.executable).parent)
        done = subprocess.run(
            [HERALD, "publish", *RECOVERED, "--channel", "system-status", "--direct"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        [message] = sandbox.messages("system-status")
        assert done.stdout.strip() in message["embeds"][0]["footer"]["text"]
        assert message["embeds"][0]["title"] == "✅ Service Recovered - api"
        assert sandbox.messages("critical-alerts") == []
