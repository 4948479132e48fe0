"""The one command definition: what is registered, and every incoming command checked by it."""

import re
from typing import Any

import msgspec
import pytest

from bot.commands import COMMANDS, BadInput, parse, payload
from bot.interaction import CommandOption


def opts(*items: dict[str, Any]) -> list[CommandOption]:
    return msgspec.convert(list(items), list[CommandOption])


def test_the_payload_fits_discords_rules() -> None:
    body = payload()
    assert [c["name"] for c in body] == [c.name for c in COMMANDS]
    for command in body:
        assert re.fullmatch(r"[-_a-z0-9]{1,32}", command["name"])
        assert 1 <= len(command["description"]) <= 100
        assert len(command["options"]) <= 25
        for option in command["options"]:
            assert re.fullmatch(r"[-_a-z0-9]{1,32}", option["name"])
            assert 1 <= len(option["description"]) <= 100
    assert {c["name"] for c in body} >= {"status", "restart", "deploy", "alerts", "pnl"}


def test_service_options_autocomplete() -> None:
    restart = next(c for c in payload() if c["name"] == "restart")
    assert restart["options"][0] == {
        "name": "service",
        "description": "the service to restart",
        "type": 3,
        "required": True,
        "autocomplete": True,
        "max_length": 100,
    }


def test_a_command_with_its_options() -> None:
    inv = parse("trades", opts({"name": "count", "type": 4, "value": 5}))
    assert (inv.command, inv.sub, inv.values) == ("trades", None, {"count": 5})
    inv = parse("alerts", opts({"name": "off", "type": 1, "options": [
        {"name": "target", "type": 3, "value": "market-data"}]}))  # fmt: skip
    assert (inv.sub, inv.values) == ("off", {"target": "market-data"})


@pytest.mark.parametrize(
    ("name", "given", "said"),
    [
        ("rm", [], "unknown command /rm"),
        ("x" * 500, [], "unknown command"),
        ("trades", [{"name": "limit", "type": 4, "value": 1}], "unknown option `limit`"),
        ("trades", [{"name": "count", "type": 3, "value": "5"}], "wrong type"),
        ("trades", [{"name": "count", "type": 4, "value": "5"}], "whole number"),
        ("trades", [{"name": "count", "type": 4, "value": True}], "whole number"),
        ("trades", [{"name": "count", "type": 4, "value": 10_000}], "between 1 and 25"),
        ("trades", [{"name": "pair", "type": 3, "value": "x" * 101}], "at most 100"),
        ("trades", [{"name": "pair", "type": 3, "value": 12}], "must be text"),
        ("pnl", [], "`period` is required"),
        ("pnl", [{"name": "period", "type": 3, "value": "yearly"}], "one of daily"),
        ("restart", [], "`service` is required"),
        ("restart", [{"name": "service", "type": 7, "value": "1"}], "wrong type"),
        ("alerts", [], "needs one of: off, on, list"),
        ("alerts", [{"name": "nuke", "type": 1}], "needs one of"),
        ("alerts", [{"name": "off", "type": 3, "value": "x"}], "needs one of"),
    ],
)
def test_bad_commands_are_told_what_is_wrong(name: str, given: list[Any], said: str) -> None:
    with pytest.raises(BadInput, match=re.escape(said)):
        parse(name, opts(*given))


def test_autocomplete_may_send_partial_values() -> None:
    inv = parse("restart", opts({"name": "service", "type": 3, "value": "ap", "focused": True}))
    assert inv.focused == "service"
    assert inv.values == {"service": "ap"}
