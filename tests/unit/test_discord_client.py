"""DiscordClient: every response class and failure becomes the right typed Outcome."""

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from ground.errors import ConfigError
from worker import discord
from worker.discord import DiscordClient, Outcome, OutcomeKind, RateHeaders

TOKEN = "FAKE-TOKEN-abcdefghijklmnopqrstuvwxyz0123456789"
URL = f"https://discord.com/api/webhooks/123456789012345678/{TOKEN}"
PAYLOAD = {"content": "hello", "allowed_mentions": {"parse": []}}
VIA = {"Via": "1.1 google"}

Handler = Callable[[httpx.Request], httpx.Response]


def client_for(handler: Handler) -> DiscordClient:
    return DiscordClient(transport=httpx.MockTransport(handler))


def reply(status: int, body: Any = None, headers: dict[str, str] | None = None) -> Outcome:
    def handler(request: httpx.Request) -> httpx.Response:
        if body is None:
            return httpx.Response(status, headers=headers)
        if isinstance(body, bytes | str):
            return httpx.Response(status, content=body, headers=headers)
        return httpx.Response(status, json=body, headers=headers)

    with client_for(handler) as client:
        return client.execute(URL, PAYLOAD)


def failing(exc: type[httpx.HTTPError], message: str = "boom") -> Outcome:
    def handler(request: httpx.Request) -> httpx.Response:
        if issubclass(exc, httpx.RequestError):
            raise exc(message, request=request)
        raise exc(message)

    with client_for(handler) as client:
        return client.execute(URL, PAYLOAD)


# --- the request ------------------------------------------------------------------


def test_request_has_wait_true_json_body_and_user_agent() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"id": "1"})

    with client_for(handler) as client:
        client.execute(URL, PAYLOAD)
    (request,) = seen
    assert request.method == "POST"
    assert request.url.params["wait"] == "true"
    assert json.loads(request.content) == PAYLOAD
    assert request.headers["content-type"] == "application/json"
    ua = request.headers["user-agent"]
    assert ua.startswith("DiscordBot (https://github.com/herald-relay/herald, ")
    assert ua.endswith(")")


def test_wait_true_merges_with_existing_query() -> None:
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(200, json={"id": "1"})

    with client_for(handler) as client:
        client.execute(URL + "?thread_id=42&wait=false", PAYLOAD)
    assert seen[0].params["thread_id"] == "42"
    assert seen[0].params.get_list("wait") == ["true"]


def test_default_timeouts_are_explicit() -> None:
    client = DiscordClient()
    timeout = client._http.timeout
    assert (timeout.connect, timeout.read) == (5.0, 10.0)
    client.close()


# --- status classes ---------------------------------------------------------------


def test_200_is_delivered_with_message_id_and_rate() -> None:
    headers = {
        "X-RateLimit-Limit": "5",
        "X-RateLimit-Remaining": "4",
        "X-RateLimit-Reset": "1700000000.123",
        "X-RateLimit-Reset-After": "1.5",
        "X-RateLimit-Bucket": "abcd1234",
    }
    out = reply(200, {"id": "1100000000000000001", "content": "hello"}, headers)
    assert out.kind is OutcomeKind.DELIVERED
    assert out.status == 200
    assert out.message_id == "1100000000000000001"
    assert out.rate == RateHeaders(
        limit=5, remaining=4, reset=1700000000.123, reset_after=1.5, bucket="abcd1234"
    )


@pytest.mark.parametrize("body", [b"not json", b"", b"[1, 2]", b"\xff\xfe"])
def test_unparseable_2xx_body_is_still_delivered(body: bytes) -> None:
    out = reply(200, body)
    assert out.kind is OutcomeKind.DELIVERED
    assert out.message_id is None


def test_204_is_delivered() -> None:
    assert reply(204).kind is OutcomeKind.DELIVERED


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408])
def test_5xx_and_408_are_retryable(status: int) -> None:
    out = reply(status, b"<html>upstream error</html>", {"Retry-After": "3"})
    assert out.kind is OutcomeKind.RETRYABLE
    assert out.status == status
    assert out.retry_after == 3.0
    assert out.detail == "<html>upstream error</html>"


@pytest.mark.parametrize("status", [401, 403, 404])
def test_401_403_404_are_gone(status: int) -> None:
    out = reply(status, {"code": 0, "message": "nope"})
    assert out.kind is OutcomeKind.GONE
    assert out.status == status


def test_unknown_webhook_10015_is_gone() -> None:
    out = reply(404, {"message": "Unknown Webhook", "code": 10015})
    assert out.kind is OutcomeKind.GONE
    assert (out.error_code, out.error_message) == (10015, "Unknown Webhook")


@pytest.mark.parametrize("status", [400, 401])
def test_invalid_token_50027_is_gone(status: int) -> None:
    out = reply(status, {"message": "Invalid Webhook Token", "code": 50027})
    assert out.kind is OutcomeKind.GONE
    assert out.error_code == 50027


@pytest.mark.parametrize("status", [400, 405, 413])
def test_other_4xx_are_invalid(status: int) -> None:
    out = reply(status, {"message": "Cannot send an empty message", "code": 50006})
    assert out.kind is OutcomeKind.INVALID
    assert out.error_code == 50006
    assert out.bad_embeds == ()
    assert out.error_paths == ()


# --- 400 / 50035: which embed is bad -------------------------------------------------


def test_50035_nested_path_names_the_embed() -> None:
    body = {
        "code": 50035,
        "message": "Invalid Form Body",
        "errors": {
            "embeds": {
                "3": {
                    "fields": {
                        "0": {
                            "value": {
                                "_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Too long"}]
                            }
                        }
                    }
                }
            }
        },
    }
    out = reply(400, body)
    assert out.kind is OutcomeKind.INVALID
    assert out.error_code == 50035
    assert out.bad_embeds == (3,)
    assert out.error_paths == ("embeds.3.fields.0.value",)


def test_50035_multiple_embeds_sorted_and_deduplicated() -> None:
    leaf = {"_errors": [{"code": "X", "message": "bad"}]}
    body = {
        "code": 50035,
        "message": "Invalid Form Body",
        "errors": {
            "embeds": {
                "7": {"title": leaf, "description": leaf},
                "1": {"fields": {"2": {"name": leaf}}},
            },
            "username": leaf,
        },
    }
    out = reply(400, body)
    assert out.bad_embeds == (1, 7)
    assert set(out.error_paths) == {
        "embeds.7.title",
        "embeds.7.description",
        "embeds.1.fields.2.name",
        "username",
    }


def test_50035_not_about_embeds_gives_no_bad_embeds() -> None:
    body = {
        "code": 50035,
        "message": "Invalid Form Body",
        "errors": {"content": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "x"}]}},
    }
    out = reply(400, body)
    assert out.bad_embeds == ()
    assert out.error_paths == ("content",)


def test_50035_with_garbled_errors_object_does_not_crash() -> None:
    out = reply(400, {"code": 50035, "message": "Invalid Form Body", "errors": ["x", 1]})
    assert out.kind is OutcomeKind.INVALID
    assert out.bad_embeds == ()


def test_long_error_message_is_truncated() -> None:
    out = reply(400, {"code": 50006, "message": "x" * 5000})
    assert out.error_message is not None
    assert len(out.error_message) == 300


# --- 429 ----------------------------------------------------------------------------


def test_429_body_retry_after_wins_over_header() -> None:
    body = {"message": "You are being rate limited.", "retry_after": 0.64, "global": False}
    headers = {
        **VIA,
        "Retry-After": "1",
        "X-RateLimit-Scope": "user",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset-After": "0.64",
    }
    out = reply(429, body, headers)
    assert out.kind is OutcomeKind.RATE_LIMITED
    assert out.retry_after == 0.64
    assert out.scope == "user"
    assert out.is_global is False
    assert out.cloudflare is False
    assert out.rate is not None
    assert (out.rate.remaining, out.rate.reset_after) == (0, 0.64)


def test_429_header_retry_after_when_body_has_none() -> None:
    out = reply(429, {"message": "You are being rate limited."}, {**VIA, "Retry-After": "7"})
    assert out.retry_after == 7.0


@pytest.mark.parametrize("bad", ["soon", "-1", "nan", "inf", ""])
def test_429_garbled_retry_after_is_none(bad: str) -> None:
    out = reply(429, {"retry_after": "x"}, {**VIA, "Retry-After": bad})
    assert out.retry_after is None


def test_429_global_from_body() -> None:
    out = reply(429, {"retry_after": 2.5, "global": True}, VIA)
    assert out.is_global is True


def test_429_global_from_scope_header() -> None:
    out = reply(429, {"retry_after": 2.5, "global": False}, {**VIA, "X-RateLimit-Scope": "global"})
    assert out.is_global is True
    assert out.scope == "global"


def test_429_shared_scope_is_not_global() -> None:
    out = reply(429, {"retry_after": 2.5}, {**VIA, "X-RateLimit-Scope": "shared"})
    assert (out.scope, out.is_global) == ("shared", False)


def test_429_without_via_is_cloudflare() -> None:
    out = reply(429, b"error code: 1015", {"Retry-After": "30"})
    assert out.kind is OutcomeKind.RATE_LIMITED
    assert out.cloudflare is True
    assert out.retry_after == 30.0
    assert out.detail == "error code: 1015"


def test_cloudflare_flag_only_on_429() -> None:
    assert reply(500).cloudflare is False
    assert reply(200, {"id": "1"}).cloudflare is False


# --- headers ------------------------------------------------------------------------


def test_rate_headers_missing_gives_none() -> None:
    assert reply(200, {"id": "1"}).rate is None


def test_rate_headers_garbled_are_tolerated() -> None:
    headers = {
        "X-RateLimit-Limit": "five",
        "X-RateLimit-Remaining": "-3",
        "X-RateLimit-Reset": "",
        "X-RateLimit-Reset-After": "1.25",
    }
    out = reply(200, {"id": "1"}, headers)
    assert out.kind is OutcomeKind.DELIVERED
    assert out.rate == RateHeaders(reset_after=1.25)


def test_rate_headers_from_plain_dict_is_case_insensitive() -> None:
    rate = RateHeaders.from_headers({"x-ratelimit-limit": "5", "X-RATELIMIT-REMAINING": "0"})
    assert rate == RateHeaders(limit=5, remaining=0)


# --- transport failures -------------------------------------------------------------


@pytest.mark.parametrize(
    "exc", [httpx.ConnectTimeout, httpx.ReadTimeout, httpx.WriteTimeout, httpx.PoolTimeout]
)
def test_timeouts_are_retryable(exc: type[httpx.HTTPError]) -> None:
    out = failing(exc, "timed out")
    assert out.kind is OutcomeKind.RETRYABLE
    assert out.status is None
    assert out.detail == f"{exc.__name__}: timed out"


def test_dropped_connection_is_retryable() -> None:
    out = failing(httpx.RemoteProtocolError, "Server disconnected without sending a response.")
    assert out.kind is OutcomeKind.RETRYABLE
    assert out.detail is not None
    assert out.detail.startswith("RemoteProtocolError")


@pytest.mark.parametrize("exc", [httpx.ConnectError, httpx.ReadError, httpx.ProxyError])
def test_connection_errors_are_retryable(exc: type[httpx.HTTPError]) -> None:
    assert failing(exc).kind is OutcomeKind.RETRYABLE


def test_real_connection_refused_is_retryable() -> None:
    from ground.proc import free_port

    with DiscordClient(connect_timeout=1.0) as client:
        out = client.execute(f"http://127.0.0.1:{free_port()}/api/webhooks/1/{TOKEN}", PAYLOAD)
    assert out.kind is OutcomeKind.RETRYABLE
    assert TOKEN not in repr(out)


@pytest.mark.parametrize("url", ["not a url", f"ftp://discord.com/api/webhooks/1/{TOKEN}"])
def test_malformed_url_is_a_config_error_without_token(url: str) -> None:
    with client_for(lambda r: httpx.Response(200)) as client, pytest.raises(ConfigError) as info:
        client.execute(url, PAYLOAD)
    assert TOKEN not in str(info.value)
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__


# --- secrets ------------------------------------------------------------------------


def _echo_url(request: httpx.Request) -> str:
    return f"failed for {request.url}"


SECRET_LEAKS: list[Handler] = [
    lambda r: httpx.Response(400, json={"code": 50035, "message": _echo_url(r)}),
    lambda r: httpx.Response(429, text=_echo_url(r)),
    lambda r: httpx.Response(503, text=_echo_url(r)),
    lambda r: httpx.Response(404, json={"code": 10015, "message": _echo_url(r)}),
]


def _raise(exc: type[httpx.RequestError]) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc(_echo_url(request), request=request)

    return handler


@pytest.mark.parametrize(
    "handler",
    [
        *SECRET_LEAKS,
        _raise(httpx.ReadTimeout),
        _raise(httpx.ConnectError),
        _raise(httpx.RemoteProtocolError),
    ],
)
def test_no_outcome_field_or_repr_contains_the_token(handler: Handler) -> None:
    with client_for(handler) as client:
        out = client.execute(URL, PAYLOAD)
    assert TOKEN not in repr(out)
    assert TOKEN not in str(out)
    for value in vars_of(out).values():
        assert TOKEN not in str(value)


def vars_of(out: Outcome) -> dict[str, object]:
    return {name: getattr(out, name) for name in Outcome.__slots__}


def test_all_is_honest() -> None:
    for name in discord.__all__:
        assert hasattr(discord, name), name
