"""The sandbox's side of interactions, alone: typed commands become typed options from
the registered definitions, and edits of an unknown interaction are refused."""

import pytest

from bot.commands import payload
from sandbox.interactions import Desk, Unsendable
from sandbox.testing import run_sandbox


def desk() -> Desk:
    d = Desk()
    d.commands = {c["name"]: {**c, "id": str(i)} for i, c in enumerate(payload())}
    return d


def test_typed_commands_become_typed_options() -> None:
    d = desk()
    assert d.command_data("/trades count:5 pair:XRP/USD")["options"] == [
        {"name": "count", "type": 4, "value": 5},
        {"name": "pair", "type": 3, "value": "XRP/USD"},
    ]
    assert d.command_data("/restart api")["options"] == [
        {"name": "service", "type": 3, "value": "api"}
    ]
    data = d.command_data('/alerts off target:market-data "for:30m"')
    assert data["options"] == [{"name": "off", "type": 1, "options": [
        {"name": "target", "type": 3, "value": "market-data"},
        {"name": "for", "type": 3, "value": "30m"}]}]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("status", "type a slash command"),
        ("/nope", "not registered"),
        ("/trades count:many", "whole number"),
        ("/alerts", "needs one of"),
        ("/status extra", "nothing takes"),
        ('/restart "api', "cannot read"),
    ],
)
def test_what_cannot_be_sent_says_why(text: str, said: str) -> None:
    with pytest.raises(Unsendable, match=said):
        desk().command_data(text)


def test_an_edit_of_an_unknown_interaction_is_404() -> None:
    with run_sandbox() as sandbox:
        app_id = sandbox.client.get("/api/interactions").json()["application_id"]
        response = sandbox.client.patch(
            f"/api/v10/webhooks/{app_id}/no-such-token/messages/@original", json={"content": "x"}
        )
        assert response.status_code == 404
        assert response.json()["code"] == 10015
        refused = sandbox.client.put(
            f"/api/v10/applications/{app_id}/guilds/1/commands", json=payload()
        )
        assert refused.status_code == 401  # no bot token
