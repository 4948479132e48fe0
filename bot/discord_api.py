"""Finishing an interaction on Discord: edit the first answer (`@original`), or post a
follow-up message when it cannot be edited.

It goes to `/webhooks/{application_id}/{interaction token}/messages/@original` (a
follow-up: `POST /webhooks/{application_id}/{interaction token}`) on the configured API
base (the sandbox in tests and the demo); the token is valid for 15 minutes and needs no
bot token. The URL carries the token, so errors are redacted before anyone sees them.
"""

import asyncio
import json
import logging
from typing import Any, Final

import httpx

from ground.redact import redact

log = logging.getLogger(__name__)

TIMEOUT: Final = httpx.Timeout(10.0, connect=5.0)
EDIT_RETRIES_S: Final = (0.2, 0.5, 1.0)
"""A 404 on @original can mean the first answer has not reached Discord yet (a quick
job or action): retried after these delays, then given up."""
USER_AGENT: Final = "DiscordBot (https://github.com/herald, 0.1)"

Files = list[tuple[str, bytes]]
"""(file name, PNG bytes) pairs, sent as multipart `files[n]`."""


class DiscordError(Exception):
    """Discord (or the sandbox) refused the call; the message is redacted."""


def original_url(api_base: str, application_id: str, token: str) -> str:
    return f"{api_base}/webhooks/{application_id}/{token}{ORIGINAL_SUFFIX}"


ORIGINAL_SUFFIX: Final = "/messages/@original"


def followup_url(original: str) -> str:
    """The follow-up URL of the interaction an `@original` URL belongs to."""
    return original.removesuffix(ORIGINAL_SUFFIX)


def request_kwargs(body: dict[str, Any], files: Files | None) -> dict[str, Any]:
    """JSON, or multipart with `payload_json` and `files[n]` when there are files."""
    headers = {"User-Agent": USER_AGENT}
    if not files:
        return {"json": body, "headers": headers}
    described = {
        **body,
        "attachments": [{"id": i, "filename": name} for i, (name, _) in enumerate(files)],
    }
    parts = {f"files[{i}]": (name, data, "image/png") for i, (name, data) in enumerate(files)}
    return {"data": {"payload_json": json.dumps(described)}, "files": parts, "headers": headers}


def _check(response: httpx.Response, what: str) -> None:
    if response.status_code >= 400:
        raise DiscordError(redact(f"{what}: HTTP {response.status_code}: {response.text[:300]}"))


def patch(url: str, body: dict[str, Any], files: Files | None = None) -> None:
    """PATCH an `@original` URL, synchronously (RQ jobs)."""
    try:
        with httpx.Client(timeout=TIMEOUT) as http:
            response = http.patch(url, **request_kwargs(body, files))
    except httpx.HTTPError as exc:
        raise DiscordError(redact(f"edit @original: {type(exc).__name__}: {exc}")) from None
    _check(response, "edit @original")


def post_followup(url: str, body: dict[str, Any], files: Files | None = None) -> None:
    """POST a follow-up message, synchronously (RQ jobs)."""
    try:
        with httpx.Client(timeout=TIMEOUT) as http:
            response = http.post(url, **request_kwargs(body, files))
    except httpx.HTTPError as exc:
        raise DiscordError(redact(f"follow-up: {type(exc).__name__}: {exc}")) from None
    _check(response, "follow-up")


async def edit_original_async(
    http: httpx.AsyncClient,
    api_base: str,
    application_id: str,
    token: str,
    body: dict[str, Any],
) -> None:
    """PATCH @original from the bot's own event loop (control results)."""
    await patch_async(http, original_url(api_base, application_id, token), body)


async def patch_async(http: httpx.AsyncClient, url: str, body: dict[str, Any]) -> None:
    for delay in (*EDIT_RETRIES_S, None):
        try:
            response = await http.patch(url, **request_kwargs(body, None))
        except httpx.HTTPError as exc:
            raise DiscordError(redact(f"edit @original: {type(exc).__name__}: {exc}")) from None
        if response.status_code != 404 or delay is None:
            break
        await asyncio.sleep(delay)
    _check(response, "edit @original")
