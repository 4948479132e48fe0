"""One POST to a Discord webhook, translated into a typed `Outcome`.

This is the only module that talks HTTP to Discord and the only place httpx errors are
translated: callers (the flush job) decide what to do from `Outcome.kind` alone and never
see an httpx exception. Webhook URLs carry a secret token, so every string built here
passes through `ground.redact.redact`.
"""

from __future__ import annotations

import enum
import importlib.metadata
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import msgspec

from ground.errors import ConfigError
from ground.redact import redact
from schemas.attachments import Attachment

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_READ_TIMEOUT",
    "GONE_CODES",
    "DiscordClient",
    "Outcome",
    "OutcomeKind",
    "RateHeaders",
    "user_agent",
]

DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 10.0
MAX_TEXT = 300
# Unknown Webhook, Invalid Webhook Token: the webhook will never work again, whatever
# status carries them.
GONE_CODES = frozenset({10015, 50027})
_GONE_STATUSES = frozenset({401, 403, 404})


class OutcomeKind(enum.Enum):
    """What the caller should do next; the one thing a flush job branches on."""

    DELIVERED = "delivered"  # 2xx: done
    RATE_LIMITED = "rate_limited"  # 429: wait `retry_after`, then resend the same batch
    INVALID = "invalid"  # 4xx about the payload: resending it unchanged cannot succeed
    GONE = "gone"  # webhook deleted or token wrong: stop using this webhook
    RETRYABLE = "retryable"  # 5xx or transport failure: retry later with backoff


@dataclass(frozen=True, slots=True)
class RateHeaders:
    """Discord's `X-RateLimit-*` headers; each field is None when missing or garbled."""

    limit: int | None = None
    remaining: int | None = None
    reset: float | None = None  # epoch seconds at which the bucket refills
    reset_after: float | None = None  # seconds until the bucket refills
    bucket: str | None = None

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> RateHeaders | None:
        """Parse leniently: a proxy or a bad deploy must not turn a send into a crash."""
        h = httpx.Headers(headers)
        bucket = h.get("x-ratelimit-bucket", "").strip()[:64] or None
        rate = cls(
            limit=_count(h.get("x-ratelimit-limit")),
            remaining=_count(h.get("x-ratelimit-remaining")),
            reset=_seconds(h.get("x-ratelimit-reset")),
            reset_after=_seconds(h.get("x-ratelimit-reset-after")),
            bucket=bucket,
        )
        return None if rate == cls() else rate


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of one Execute Webhook call. No field ever holds a webhook token."""

    kind: OutcomeKind
    status: int | None = None
    message_id: str | None = None
    retry_after: float | None = None
    scope: str | None = None
    is_global: bool = False
    cloudflare: bool = False
    rate: RateHeaders | None = None
    error_code: int | None = None
    error_message: str | None = None
    bad_embeds: tuple[int, ...] = ()
    error_paths: tuple[str, ...] = ()
    detail: str | None = None  # transport error or non-JSON error body, redacted


def user_agent() -> str:
    """Discord asks for `DiscordBot (url, version)` and may block anonymous clients."""
    try:
        version = importlib.metadata.version("herald")
    except importlib.metadata.PackageNotFoundError:
        version = "0.0.0"
    return f"DiscordBot (https://github.com/herald-relay/herald, {version})"


class DiscordClient:
    """A sync client (RQ jobs are sync) that turns every response or failure into an Outcome."""

    def __init__(
        self,
        *,
        transport: httpx.BaseTransport | None = None,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
    ) -> None:
        timeout = httpx.Timeout(read_timeout, connect=connect_timeout)
        self._http = httpx.Client(
            transport=transport,
            timeout=timeout,
            headers={"User-Agent": user_agent()},
            follow_redirects=False,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> DiscordClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def execute(
        self, webhook_url: str, payload: Mapping[str, Any], files: Sequence[Attachment] = ()
    ) -> Outcome:
        """POST `payload` with `?wait=true` (so failures are not silent); never raises for
        an HTTP status or a transport failure. A malformed URL raises `ConfigError`.

        With `files`, the body is Discord's multipart form: `payload_json` and a
        `files[n]` part per file (n is the id in the payload's `attachments`)."""
        url = _webhook_url(webhook_url)
        try:
            if files:
                response = self._http.post(url, data=_form(payload), files=_parts(files))
            else:
                response = self._http.post(url, json=dict(payload))
        except httpx.TimeoutException as exc:
            return Outcome(OutcomeKind.RETRYABLE, detail=_describe(exc))
        except httpx.HTTPError as exc:
            # Connect errors, dropped connections, protocol and decoding errors.
            return Outcome(OutcomeKind.RETRYABLE, detail=_describe(exc))
        return outcome_from_response(response)


def _form(payload: Mapping[str, Any]) -> dict[str, str]:
    return {"payload_json": msgspec.json.encode(dict(payload)).decode()}


def _parts(files: Sequence[Attachment]) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [(f"files[{n}]", (f.filename, f.data, f.content_type)) for n, f in enumerate(files)]


def _webhook_url(webhook_url: str) -> httpx.URL:
    """Reject a URL that can never work before it reaches the network (or a log)."""
    try:
        url = httpx.URL(webhook_url)
    except (httpx.InvalidURL, TypeError):
        problem = "it is not a URL"
    else:
        if url.scheme in ("https", "http") and url.host:
            return url.copy_merge_params({"wait": "true"})
        problem = f"scheme {url.scheme!r} is not https" if url.scheme else "it is not a URL"
    # Never quote the URL (or chain an exception that does): it carries the token.
    raise ConfigError(
        f"webhook URL is invalid ({_text(problem)}): check the channel's webhook setting"
    ) from None


def outcome_from_response(response: httpx.Response) -> Outcome:
    """Classify a response; public so the sandbox and tests can reuse the rules."""
    status = response.status_code
    headers = response.headers
    body = _json_object(response)
    rate = RateHeaders.from_headers(headers)
    code = _int_or_none(body.get("code"))
    message = body.get("message")
    error_message = _text(message) if isinstance(message, str) else None
    if 200 <= status < 300:
        message_id = body.get("id")
        return Outcome(
            OutcomeKind.DELIVERED,
            status=status,
            message_id=str(message_id) if isinstance(message_id, str | int) else None,
            rate=rate,
        )
    scope = headers.get("x-ratelimit-scope", "").strip().lower()[:32] or None
    common: dict[str, Any] = {
        "status": status,
        "rate": rate,
        "scope": scope,
        "retry_after": _retry_after(body, headers),
        "error_code": code,
        "error_message": error_message,
        "detail": None if body else _body_excerpt(response),
    }
    if status == 429:
        is_global = (
            body.get("global") is True
            or scope == "global"
            or headers.get("x-ratelimit-global", "").strip().lower() == "true"
        )
        # Discord's own 429s pass through its proxy and carry `Via`; Cloudflare's don't.
        cloudflare = "via" not in headers
        return Outcome(
            OutcomeKind.RATE_LIMITED, is_global=is_global, cloudflare=cloudflare, **common
        )
    if status in _GONE_STATUSES or (code in GONE_CODES and 400 <= status < 500):
        return Outcome(OutcomeKind.GONE, **common)
    if status == 408 or not 400 <= status < 500:
        # 5xx, request timeout, and anything unexpected (1xx/3xx): the payload may be
        # fine, so retry with backoff rather than drop it.
        return Outcome(OutcomeKind.RETRYABLE, **common)
    paths = _error_paths(body.get("errors")) if status == 400 else ()
    return Outcome(
        OutcomeKind.INVALID, bad_embeds=_embed_indices(paths), error_paths=paths, **common
    )


def _error_paths(errors: object, prefix: str = "") -> tuple[str, ...]:
    """Flatten Discord's nested `errors` object into dotted paths of the failing fields,
    e.g. `embeds.3.fields.0.value` - enough to drop one bad embed and send the rest."""
    if not isinstance(errors, dict):
        return ()
    found: list[str] = []
    for key, value in errors.items():
        if key == "_errors":
            if prefix:
                found.append(prefix)
            continue
        found.extend(_error_paths(value, f"{prefix}.{key}" if prefix else str(key)))
    return tuple(_text(p) for p in found)


def _embed_indices(paths: tuple[str, ...]) -> tuple[int, ...]:
    indices: set[int] = set()
    for path in paths:
        parts = path.split(".")
        if len(parts) >= 2 and parts[0] == "embeds" and parts[1].isdigit():
            indices.add(int(parts[1]))
    return tuple(sorted(indices))


def _json_object(response: httpx.Response) -> dict[str, Any]:
    """The body as a JSON object, or {} - a 2xx with a garbled body is still delivered."""
    try:
        body = response.json()
    except ValueError:  # JSONDecodeError and UnicodeDecodeError are both ValueErrors
        return {}
    return body if isinstance(body, dict) else {}


def _retry_after(body: Mapping[str, Any], headers: httpx.Headers) -> float | None:
    """The JSON `retry_after` is a precise float; the header is whole seconds: prefer JSON."""
    value = body.get("retry_after")
    if isinstance(value, int | float) and not isinstance(value, bool):
        parsed = _seconds(str(value))
        if parsed is not None:
            return parsed
    return _seconds(headers.get("retry-after"))


def _seconds(value: str | None) -> float | None:
    try:
        number = float(value) if value is not None else math.nan
    except ValueError:
        return None
    return number if math.isfinite(number) and number >= 0 else None


def _count(value: str | None) -> int | None:
    number = _seconds(value)
    return int(number) if number is not None else None


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text(value: object) -> str:
    """Redact first (so the token pattern still matches whole), then truncate."""
    text = redact(str(value))
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 3] + "..."


def _describe(exc: Exception) -> str:
    message = str(exc)
    return _text(f"{type(exc).__name__}: {message}" if message else type(exc).__name__)


def _body_excerpt(response: httpx.Response) -> str | None:
    try:
        text = " ".join(response.text.split())
    except (ValueError, LookupError):
        return None
    return _text(text) if text else None
