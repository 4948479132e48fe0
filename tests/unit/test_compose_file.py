"""compose.yaml cannot be run here (no Docker engine), so check what can be checked
without one: every Herald command in it parses with the real CLI, and the sandbox
healthcheck asks for a path the sandbox serves."""

import json
import re
from pathlib import Path

import pytest

from herald.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = (ROOT / "compose.yaml").read_text()


def herald_commands() -> list[list[str]]:
    commands = [json.loads(m) for m in re.findall(r"^\s+command: (\[.*\])$", COMPOSE, re.M)]
    tests = [json.loads(m) for m in re.findall(r"^\s+test: (\[.*\])$", COMPOSE, re.M)]
    found = [c for c in commands if c[0] != "redis-server"]
    found += [t[2:] for t in tests if t[:2] == ["CMD", "herald"]]
    return found


def test_the_image_runs_herald() -> None:
    assert 'ENTRYPOINT ["herald"]' in (ROOT / "deploy" / "Dockerfile").read_text()


@pytest.mark.parametrize("argv", herald_commands(), ids=" ".join)
def test_every_herald_command_in_compose_parses(argv: list[str]) -> None:
    args = build_parser(argv).parse_args(argv)
    assert callable(args.func)


def test_every_herald_service_is_checked() -> None:
    assert {argv[0] for argv in herald_commands()} == {
        "sandbox",
        "dispatch",
        "monitor",
        "books",
        "bot",
        "worker",
        "status",
    }


def test_the_sandbox_healthcheck_path_exists() -> None:
    from sandbox.app import make_app
    from sandbox.config import SandboxConfig

    app = make_app(SandboxConfig())
    paths = {r.resource.canonical for r in app.router.routes() if r.resource is not None}
    assert "/admin/stats" in paths
