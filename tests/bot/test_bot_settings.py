"""`[bot]`: secrets from the environment or files, errors that name the key, no secret shown."""

from pathlib import Path
from typing import Any

import pytest
from nacl.signing import SigningKey

from bot.settings import MUTE_CRITICAL, bot_settings
from ground.errors import ConfigError
from ground.settings import ConfigFile

KEY = SigningKey.generate().verify_key.encode().hex()
BASE = {"public_key": KEY, "application_id": "123"}


def settings(bot: dict[str, Any] | None = None, env: dict[str, str] | None = None, **kw: Any):
    return bot_settings(ConfigFile(bot={**BASE, **(bot or {})}, **kw), env or {})


def test_environment_wins_and_files_are_read(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("file-token-SECRET\n")
    other = SigningKey.generate().verify_key.encode().hex()
    got = settings(
        {"token": "toml-token"},
        {
            "HERALD_DISCORD_BOT_TOKEN_FILE": str(token),
            "HERALD_DISCORD_PUBLIC_KEY": other,
            "HERALD_DISCORD_APPLICATION_ID": "999",
        },
    )
    assert got.token == "file-token-SECRET"
    assert got.public_key == bytes.fromhex(other)
    assert got.application_id == "999"
    shown = repr(got)
    assert "SECRET" not in shown
    assert other not in shown


def test_services_are_the_monitors_checks_plus_the_bots_own() -> None:
    monitor = {"checks": [{"name": "trade-server", "kind": "heartbeat"}]}
    got = settings({"services": ["pricer", "trade-server"]}, monitor=monitor)
    assert got.services == ("pricer", "trade-server")


@pytest.mark.parametrize(
    ("bot", "key"),
    [
        ({"public_key": None}, "bot.public_key"),
        ({"public_key": "abcd"}, "bot.public_key"),
        ({"application_id": "app"}, "bot.application_id"),
        ({"services": ["api; rm -rf /"]}, "bot.services[0]"),
        ({"services": ["-rf"]}, "bot.services[0]"),
        ({"actions": {"reboot": {"command": ["x"]}}}, "bot.actions.reboot"),
        ({"actions": {"restart": {"command": []}}}, "bot.actions.restart.command"),
        ({"actions": {"restart": {"command": ["x"], "timeout": "soon"}}}, "for"),
        ({"permissions": {"restart": ["admins"]}}, "bot.permissions.restart"),
        ({"unknown": 1}, "bot"),
        ({"token_file": "/nonexistent/token"}, "bot.token_file"),
    ],
)
def test_a_bad_key_is_named(bot: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings(bot)
    if key == "for":
        assert "bot.actions.restart.timeout" in str(caught.value)
    else:
        assert key in str(caught.value)
    assert KEY not in str(caught.value)


def test_muting_critical_defaults_to_the_restart_roles() -> None:
    got = settings({"permissions": {"restart": ["1"]}})
    assert got.roles_for(MUTE_CRITICAL) == {"1"}
    got = settings({"permissions": {"restart": ["1"], MUTE_CRITICAL: ["2"]}})
    assert got.roles_for(MUTE_CRITICAL) == {"2"}
    assert got.roles_for("deploy") == frozenset()


def test_an_action_fills_in_the_service_as_one_argument() -> None:
    got = settings({"actions": {"restart": {"command": ["supervisorctl", "restart", "{service}"]}}})
    assert got.actions["restart"].command_for("a b") == ["supervisorctl", "restart", "a b"]
    assert got.actions["restart"].timeout_s == 60
