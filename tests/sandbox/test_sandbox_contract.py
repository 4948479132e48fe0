"""The sandbox answers Execute Webhook like Discord: accepts, rejects and words errors the same."""

import copy
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from sandbox.demo import FAMILIES, batched
from sandbox.testing import SandboxHandle, run_sandbox

Payload = dict[str, Any]


def post(client: httpx.Client, url: str, body: object, *, wait: bool = True) -> httpx.Response:
    return client.post(url + ("?wait=true" if wait else ""), json=body)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_each_herald_family_is_accepted(
    unlimited_sandbox: SandboxHandle, client: httpx.Client, family: str
) -> None:
    channel, payload = FAMILIES[family]
    assert payload["allowed_mentions"]["parse"] == []
    response = post(client, unlimited_sandbox.webhook_url(channel), payload)
    assert response.status_code == 200, response.text
    message = response.json()
    assert message["id"].isdigit()
    assert int(message["id"]) > 0
    assert message["webhook_id"] == unlimited_sandbox.webhook_url(channel).rsplit("/", 2)[-2]
    assert message["channel_id"].isdigit()
    assert message["embeds"][0]["title"] == payload["embeds"][0]["title"]
    assert message["timestamp"]
    assert message["mention_everyone"] is False
    stored = unlimited_sandbox.messages(channel, since=str(int(message["id"]) - 1))
    assert [m["id"] for m in stored] == [message["id"]]
    assert stored[0]["allowed_mentions"] == payload["allowed_mentions"]


def test_a_coalesced_batch_of_all_families_is_accepted(
    unlimited_sandbox: SandboxHandle, client: httpx.Client
) -> None:
    body = batched(*(p for _, p in FAMILIES.values()))
    assert len(body["embeds"]) == 9
    response = post(client, unlimited_sandbox.webhook_url("trading-alerts"), body)
    assert response.status_code == 200, response.text
    assert len(response.json()["embeds"]) == 9


def test_without_wait_the_answer_is_204_and_the_message_is_kept(
    unlimited_sandbox: SandboxHandle, client: httpx.Client
) -> None:
    url = unlimited_sandbox.webhook_url("maintenance")
    before = len(unlimited_sandbox.messages("maintenance"))
    response = post(
        client, url, {"content": "no wait", "allowed_mentions": {"parse": []}}, wait=False
    )
    assert response.status_code == 204
    assert response.content == b""
    assert len(unlimited_sandbox.messages("maintenance")) == before + 1


def test_the_v10_path_works_too(unlimited_sandbox: SandboxHandle, client: httpx.Client) -> None:
    url = unlimited_sandbox.webhook_url("market-data").replace(
        "/api/webhooks/", "/api/v10/webhooks/"
    )
    assert post(client, url, {"content": "v10"}).status_code == 200


# --- every documented limit, exactly at its boundary -----------------------------------


def _embed(**fields: Any) -> Payload:
    return {"allowed_mentions": {"parse": []}, "embeds": [fields]}


def _fields(count: int, name_len: int = 1, value_len: int = 1) -> list[Payload]:
    return [
        {"name": "n" * name_len, "value": "v" * value_len, "inline": True} for _ in range(count)
    ]


def _total(n: int) -> Payload:
    """Two embeds whose counted text adds up to exactly `n` (each within its own limits)."""
    return {"embeds": [{"description": "d" * 4096}, {"description": "e" * (n - 4096)}]}


# (name, build(n), limit, error path, Discord error code)
BOUNDARIES: list[tuple[str, Callable[[int], Payload], int, tuple[str, ...], str]] = [
    ("content", lambda n: {"content": "c" * n}, 2000, ("content",), "BASE_TYPE_MAX_LENGTH"),
    (
        "title",
        lambda n: _embed(title="t" * n),
        256,
        ("embeds", "0", "title"),
        "BASE_TYPE_MAX_LENGTH",
    ),
    (
        "description",
        lambda n: _embed(description="d" * n),
        4096,
        ("embeds", "0", "description"),
        "BASE_TYPE_MAX_LENGTH",
    ),
    (
        "field value",
        lambda n: _embed(fields=_fields(1, value_len=n)),
        1024,
        ("embeds", "0", "fields", "0", "value"),
        "BASE_TYPE_MAX_LENGTH",
    ),
    (
        "field name",
        lambda n: _embed(fields=_fields(1, name_len=n)),
        256,
        ("embeds", "0", "fields", "0", "name"),
        "BASE_TYPE_MAX_LENGTH",
    ),
    (
        "fields per embed",
        lambda n: _embed(fields=_fields(n)),
        25,
        ("embeds", "0", "fields"),
        "BASE_TYPE_MAX_LENGTH",
    ),
    (
        "embeds per message",
        lambda n: {"embeds": [{"title": "t"}] * n},
        10,
        ("embeds",),
        "BASE_TYPE_MAX_LENGTH",
    ),
    (
        "footer text",
        lambda n: _embed(footer={"text": "f" * n}),
        2048,
        ("embeds", "0", "footer", "text"),
        "BASE_TYPE_MAX_LENGTH",
    ),
    (
        "author name",
        lambda n: _embed(author={"name": "a" * n}),
        256,
        ("embeds", "0", "author", "name"),
        "BASE_TYPE_MAX_LENGTH",
    ),
    ("embed total", _total, 6000, ("embeds",), "MAX_EMBED_SIZE_EXCEEDED"),
    (
        "username",
        lambda n: {"content": "x", "username": "u" * n},
        80,
        ("username",),
        "BASE_TYPE_BAD_LENGTH",
    ),
    (
        "colour",
        lambda n: _embed(title="t", color=n),
        16777215,
        ("embeds", "0", "color"),
        "NUMBER_TYPE_MAX",
    ),
]


def _at(errors: dict[str, Any], path: tuple[str, ...]) -> list[dict[str, str]]:
    node = errors
    for part in path:
        assert part in node, f"no error at {'.'.join(path)}; got {errors}"
        node = node[part]
    return list(node["_errors"])


@pytest.mark.parametrize(
    ("build", "limit", "path", "code"), [b[1:] for b in BOUNDARIES], ids=[b[0] for b in BOUNDARIES]
)
def test_limit_is_enforced_exactly_at_its_boundary(
    unlimited_sandbox: SandboxHandle,
    client: httpx.Client,
    build: Callable[[int], Payload],
    limit: int,
    path: tuple[str, ...],
    code: str,
) -> None:
    url = unlimited_sandbox.webhook_url("system-status")
    at_limit = post(client, url, build(limit))
    assert at_limit.status_code == 200, f"{limit} should be accepted: {at_limit.text}"
    over = post(client, url, build(limit + 1))
    assert over.status_code == 400
    body = over.json()
    assert body["code"] == 50035
    assert body["message"] == "Invalid Form Body"
    errors = _at(body["errors"], path)
    assert [e["code"] for e in errors] == [code]


def test_the_error_body_names_the_failing_field_like_discord(
    unlimited_sandbox: SandboxHandle, client: httpx.Client
) -> None:
    body = batched(*(p for _, p in list(FAMILIES.values())[:4]))
    body["embeds"] = copy.deepcopy(body["embeds"])
    body["embeds"][3]["fields"][0]["value"] = "x" * 1025
    response = post(client, unlimited_sandbox.webhook_url("system-status"), body)
    assert response.status_code == 400
    assert response.json() == {
        "code": 50035,
        "message": "Invalid Form Body",
        "errors": {
            "embeds": {
                "3": {
                    "fields": {
                        "0": {
                            "value": {
                                "_errors": [
                                    {
                                        "code": "BASE_TYPE_MAX_LENGTH",
                                        "message": "Must be 1024 or fewer in length.",
                                    }
                                ]
                            }
                        }
                    }
                }
            }
        },
    }


def test_several_failures_are_all_reported(
    unlimited_sandbox: SandboxHandle, client: httpx.Client
) -> None:
    body = {
        "content": "c" * 2001,
        "embeds": [{"title": "t" * 257, "color": -1, "timestamp": "yesterday"}],
    }
    errors = post(client, unlimited_sandbox.webhook_url("system-status"), body).json()["errors"]
    assert set(errors) == {"content", "embeds"}
    assert set(errors["embeds"]["0"]) == {"title", "color", "timestamp"}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"content": ""},
        {"content": "   "},
        {"content": None, "embeds": []},
        {"allowed_mentions": {"parse": []}},
    ],
    ids=["nothing", "empty-content", "blank-content", "null-and-no-embeds", "only-mentions"],
)
def test_an_empty_message_is_50006(
    unlimited_sandbox: SandboxHandle, client: httpx.Client, body: Payload
) -> None:
    response = post(client, unlimited_sandbox.webhook_url("system-status"), body)
    assert response.status_code == 400
    assert response.json() == {"code": 50006, "message": "Cannot send an empty message"}


@pytest.mark.parametrize("name", ["Discord Alerts", "clyde", "my-DISCORDbot", "CLYDE 2"])
def test_a_username_with_discord_or_clyde_is_rejected(
    unlimited_sandbox: SandboxHandle, client: httpx.Client, name: str
) -> None:
    response = post(
        client, unlimited_sandbox.webhook_url("system-status"), {"content": "x", "username": name}
    )
    assert response.status_code == 400
    assert (
        response.json()["errors"]["username"]["_errors"][0]["code"] == "USERNAME_INVALID_CONTAINS"
    )


def test_empty_field_name_or_value_is_required(
    unlimited_sandbox: SandboxHandle, client: httpx.Client
) -> None:
    body = _embed(fields=[{"name": "", "value": " "}])
    errors = post(client, unlimited_sandbox.webhook_url("system-status"), body).json()["errors"]
    field = errors["embeds"]["0"]["fields"]["0"]
    assert field["name"]["_errors"][0]["code"] == "BASE_TYPE_REQUIRED"
    assert field["value"]["_errors"][0]["code"] == "BASE_TYPE_REQUIRED"


def test_invalid_json_is_50109(unlimited_sandbox: SandboxHandle, client: httpx.Client) -> None:
    response = client.post(unlimited_sandbox.webhook_url("system-status"), content=b"{not json")
    assert response.status_code == 400
    assert response.json()["code"] == 50109


def test_a_wrong_token_is_401_50027(unlimited_sandbox: SandboxHandle, client: httpx.Client) -> None:
    url = unlimited_sandbox.webhook_url("trading-alerts").rsplit("/", 1)[0] + "/not-the-token"
    response = post(client, url, {"content": "x"})
    assert response.status_code == 401
    assert response.json() == {"code": 50027, "message": "Invalid Webhook Token"}


def test_a_deleted_webhook_is_404_10015_until_restored(client: httpx.Client) -> None:
    with run_sandbox(no_limits=True) as sandbox:
        url = sandbox.webhook_url("critical-alerts")
        sandbox.delete_webhook("critical-alerts")
        response = post(client, url, {"content": "x"})
        assert response.status_code == 404
        assert response.json() == {"code": 10015, "message": "Unknown Webhook"}
        assert sandbox.stats()["unknown_webhook"] == 1
        sandbox.restore_webhook("critical-alerts")
        assert post(client, url, {"content": "x"}).status_code == 200


def test_discords_delete_with_token_route_deletes(client: httpx.Client) -> None:
    with run_sandbox(no_limits=True) as sandbox:
        url = sandbox.webhook_url("maintenance")
        assert client.get(url).json()["channel_id"].isdigit()
        assert client.get(url + "-wrong").json()["code"] == 50027
        assert client.delete(url + "-wrong").status_code == 401
        assert client.delete(url).status_code == 204
        assert post(client, url, {"content": "x"}).status_code == 404
        assert client.get(url).json()["code"] == 10015
        assert client.delete(url).status_code == 404


def test_unknown_ids_register_with_their_first_token_unless_strict(client: httpx.Client) -> None:
    with run_sandbox(no_limits=True) as sandbox:
        url = f"{sandbox.base_url}/api/webhooks/123456789/first-token"
        assert post(client, url, {"content": "hello"}).status_code == 200
        assert [m["content"] for m in sandbox.messages("webhook-123456789")] == ["hello"]
        assert (
            post(client, url.replace("first-token", "other"), {"content": "x"}).status_code == 401
        )
    with run_sandbox(no_limits=True, strict_tokens=True) as sandbox:
        assert (
            post(
                client, f"{sandbox.base_url}/api/webhooks/123456789/t", {"content": "x"}
            ).status_code
            == 404
        )


def test_allowed_mentions_decide_who_is_pinged(
    unlimited_sandbox: SandboxHandle, client: httpx.Client
) -> None:
    url = unlimited_sandbox.webhook_url("critical-alerts")
    quiet = post(
        client, url, {"content": "@everyone <@&42>", "allowed_mentions": {"parse": []}}
    ).json()
    assert (quiet["mention_everyone"], quiet["mention_roles"]) == (False, [])
    paged = post(
        client,
        url,
        {"content": "<@&42> <@&43>", "allowed_mentions": {"parse": [], "roles": ["42"]}},
    ).json()
    assert paged["mention_roles"] == ["42"]
    default = post(client, url, {"content": "@everyone"}).json()
    assert default["mention_everyone"] is True  # Discord's default parses everything


def test_messages_since_is_an_exclusive_cursor(client: httpx.Client) -> None:
    with run_sandbox(no_limits=True) as sandbox:
        url = sandbox.webhook_url("market-data")
        ids = [post(client, url, {"content": str(i)}).json()["id"] for i in range(3)]
        assert [m["id"] for m in sandbox.messages("market-data")] == ids
        assert [m["content"] for m in sandbox.messages(since=ids[0])] == ["1", "2"]
        assert sandbox.stats()["messages"] == 3
        sandbox.reset()
        assert sandbox.messages() == []
