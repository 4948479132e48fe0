"""`herald sandbox` / `python -m sandbox` options, and the URLs Herald points its channels at."""

import subprocess
import sys

import httpx
import pytest

import sandbox
from ground.channels import CHANNELS
from ground.proc import free_port, wait_until
from ground.rates import Rate
from herald.cli import build_parser
from sandbox import cli
from sandbox.cli import config_from_args


def parse(*argv: str) -> object:
    return build_parser(["sandbox", *argv]).parse_args(["sandbox", *argv])


def test_defaults_are_discords_limits() -> None:
    config = config_from_args(parse())  # type: ignore[arg-type]
    assert (config.host, config.port) == ("127.0.0.1", 8765)
    assert (config.webhook_rate, config.channel_rate, config.global_rate) == (
        Rate(5, 2),
        Rate(30, 60),
        Rate(50, 1),
    )
    assert [h.channel for h in config.webhooks] == list(CHANNELS)


def test_options_reach_the_config() -> None:
    args = parse(
        "--port",
        "0",
        "--limit",
        "10/1s",
        "--channel-limit",
        "3/1m",
        "--fail-rate",
        "0.1",
        "--slow-rate",
        "0.2",
        "--slow-seconds",
        "3",
        "--drop-rate",
        "0.05",
        "--seed",
        "7",
        "--strict-tokens",
        "--webhook",
        "42:tok:ops-room",
    )
    config = config_from_args(args)  # type: ignore[arg-type]
    assert config.webhook_rate == Rate(10, 1)
    assert config.channel_rate == Rate(3, 60)
    assert (
        config.faults.fail_rate,
        config.faults.slow_rate,
        config.faults.slow_seconds,
        config.faults.drop_rate,
    ) == (0.1, 0.2, 3, 0.05)
    assert (config.seed, config.strict_tokens) == (7, True)
    assert config.webhooks[-1].channel == "ops-room"
    assert config_from_args(parse("--no-limits")).global_rate is None  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["5", "x/2s", "5/2y", "0/1s", "5/0s"])
def test_a_bad_limit_is_a_clear_argparse_error(
    bad: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        parse("--limit", bad)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "argument --limit" in err
    assert "COUNT/PERIOD" in err or "must both be positive" in err


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("5/2s", Rate(5, 2)),
        ("30/1m", Rate(30, 60)),
        ("50/s", Rate(50, 1)),
        ("100/500ms", Rate(100, 0.5)),
    ],
)
def test_limits_take_every_rate_form(text: str, rate: Rate) -> None:
    assert config_from_args(parse("--channel-limit", text)).channel_rate == rate  # type: ignore[arg-type]


def test_python_m_sandbox_parses_the_same_options_without_herald() -> None:
    argv = ["--port", "0", "--limit", "10/1s", "--webhook", "42:tok:ops-room", "--no-limits"]
    alone = cli.build_parser().parse_args([*argv, "--log-json"])
    assert config_from_args(alone) == config_from_args(parse(*argv))  # type: ignore[arg-type]
    assert alone.log_json is True


def test_the_sandbox_imports_nothing_above_the_ground_floor() -> None:
    """It plays Discord: sharing code with the engine would let both be wrong together."""
    modules = "sandbox.cli, sandbox.app, sandbox.demo, sandbox.testing, sandbox.screenshot"
    script = (
        f"import sys, {modules}\n"
        "layers = {'herald', 'worker', 'producer', 'schemas'}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in layers))"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_channel_webhooks_are_deterministic() -> None:
    urls = sandbox.channel_webhooks("http://127.0.0.1:8765/")
    assert list(urls) == list(CHANNELS)
    assert (
        urls["system-status"]
        == "http://127.0.0.1:8765/api/webhooks/100000000000000001/sandbox-token-system-status"
    )
    assert urls["maintenance"].endswith("/100000000000000005/sandbox-token-maintenance")


@pytest.mark.parametrize("command", [["herald.cli", "sandbox"], ["sandbox"]], ids=" ".join)
def test_the_command_serves_and_prints_its_urls(command: list[str]) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", *command, "--port", str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"

        def up() -> bool:
            try:
                return httpx.get(base + "/admin/stats").status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(up, 15, "herald sandbox to answer")
        assert (
            httpx.post(
                sandbox.channel_webhooks(base)["trading-alerts"], json={"content": "hi"}
            ).status_code
            == 204
        )
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=10)
    assert process.returncode == 0
    for url in sandbox.channel_webhooks(f"http://127.0.0.1:{port}").values():
        assert url in out
