"""`herald bot register`: one PUT of the whole definition (idempotent), the dry run's JSON,
and a refusal from Discord reported without the bot token."""

import json
import subprocess
import sys

import httpx
import pytest
from nacl.signing import SigningKey

from bot.commands import payload
from bot.register import register
from bot.settings import bot_settings
from ground.errors import ConfigError, HeraldError
from ground.settings import ConfigFile
from tests.bot.harness import APP_ID, BOT_TOKEN, GUILD, make_settings


def test_register_overwrites_the_guilds_commands_in_one_put() -> None:
    seen: list[httpx.Request] = []

    def discord(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=json.loads(request.content))

    settings = make_settings(SigningKey.generate())
    transport = httpx.MockTransport(discord)
    first = register(settings, GUILD, transport=transport)
    second = register(settings, GUILD, transport=transport)
    assert first == second == payload()
    assert [r.method for r in seen] == ["PUT", "PUT"]
    assert seen[0].url.path == f"/api/v10/applications/{APP_ID}/guilds/{GUILD}/commands"
    assert seen[0].headers["Authorization"] == f"Bot {BOT_TOKEN}"
    assert seen[0].content == seen[1].content


def test_a_refusal_names_the_status_but_never_the_token() -> None:
    def discord(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"message": f"bad token {BOT_TOKEN}", "code": 0})

    settings = make_settings(SigningKey.generate())
    with pytest.raises(HeraldError, match="HTTP 401") as caught:
        register(settings, GUILD, transport=httpx.MockTransport(discord))
    assert BOT_TOKEN not in str(caught.value)


def test_bad_guild_and_missing_token_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="--guild"):
        register(make_settings(SigningKey.generate()), "my-server")
    with pytest.raises(ConfigError, match=r"bot\.token"):
        register(make_settings(SigningKey.generate(), {"token": None}), GUILD)


def test_registering_needs_no_public_key() -> None:
    env = {"HERALD_DISCORD_APPLICATION_ID": APP_ID, "HERALD_DISCORD_BOT_TOKEN": BOT_TOKEN}
    settings = bot_settings(ConfigFile(), env, serving=False)
    assert (settings.application_id, settings.token) == (APP_ID, BOT_TOKEN)
    with pytest.raises(ConfigError, match=r"bot\.public_key"):
        bot_settings(ConfigFile(), env)


def test_dry_run_prints_the_json_without_any_settings() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "herald.cli", "bot", "register", "--guild", GUILD, "--dry-run"],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert json.loads(done.stdout) == payload()
