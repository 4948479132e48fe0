"""Execute Webhook with files: `multipart/form-data`, read and checked like Discord.

A `payload_json` part holds the JSON body (checked exactly like a JSON request); each
`files[n]` part is one file, and the JSON's `attachments` array names them by id `n`
(an id with no part: `ATTACHMENT_NOT_FOUND`, Discord's answer). An embed's
`attachment://name` must name one of the files. Sizes are checked while reading, so
memory stays bounded: a file over 10 MiB or a body over 25 MiB is Discord's
`413 {"code": 40005, "message": "Request entity too large"}`.

The limits are the sandbox's own copy of Discord's (it plays Discord and shares no code
with the engine it checks): 10 attachments (the OpenAPI `maxItems`), 10 MiB per file
(the default upload limit), 25 MiB per request (Discord's Uploading Files reference).
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

from aiohttp import BodyPartReader, web

from sandbox.validation import FormError, Rejection, form_body, validate_message

MAX_FILES: Final = 10
MAX_FILE_BYTES: Final = 10 * 1024 * 1024
MAX_REQUEST_BYTES: Final = 25 * 1024 * 1024
SCHEME: Final = "attachment://"
_FILE_PART = re.compile(r"files\[(\d{1,19})\]\Z")
_CHUNK = 64 * 1024
_URL_KEYS: Final = (
    ("image", "url"),
    ("thumbnail", "url"),
    ("author", "icon_url"),
    ("footer", "icon_url"),
)


@dataclass(frozen=True, slots=True)
class Upload:
    """One accepted file part, named as the message will show it."""

    id: str
    """The `n` of `files[n]`."""
    filename: str
    content_type: str
    data: bytes
    description: str | None = None


def too_large() -> Rejection:
    return Rejection({"code": 40005, "message": "Request entity too large"}, status=413)


def is_multipart(request: web.Request) -> bool:
    return request.content_type == "multipart/form-data"


async def read_message(request: web.Request) -> tuple[dict[str, Any], list[Upload]]:
    """The checked payload and files of a multipart Execute Webhook, or `Rejection`."""
    if (request.content_length or 0) > MAX_REQUEST_BYTES:
        raise too_large()
    payload_json, fields, uploads = await _read_parts(request)
    body: bytes | dict[str, Any] = payload_json if payload_json is not None else fields
    payload = validate_message(body, files=len(uploads))
    named = _name_files(payload, uploads)
    errors = list(_dangling_refs(payload, {u.filename for u in named}))
    if errors:
        raise Rejection(form_body(errors))
    return payload, named


def check_json(payload: dict[str, Any]) -> None:
    """A JSON body has no files: an `attachments` id or `attachment://` URL names none."""
    _name_files(payload, [])
    errors = list(_dangling_refs(payload, set()))
    if errors:
        raise Rejection(form_body(errors))


async def _read_parts(
    request: web.Request,
) -> tuple[bytes | None, dict[str, Any], list[Upload]]:
    """Every part, counting bytes as they arrive (never more than the limits in memory)."""
    try:
        reader = await request.multipart()
    except (ValueError, AssertionError, KeyError):
        raise _bad_form() from None
    payload_json: bytes | None = None
    fields: dict[str, Any] = {}
    uploads: list[Upload] = []
    budget = MAX_REQUEST_BYTES
    while True:
        try:
            part = await reader.next()
        except (ValueError, AssertionError):
            raise _bad_form() from None
        if part is None:
            break
        if not isinstance(part, BodyPartReader):  # a nested multipart: not Discord's form
            raise _bad_form()
        limit = MAX_FILE_BYTES if part.filename is not None else budget
        data = await _read_part(part, min(limit, budget))
        budget -= len(data)
        name = part.name or ""
        if name == "payload_json":
            payload_json = data
        elif part.filename is not None:
            uploads.append(_upload(name, part, data, len(uploads)))
        else:
            fields[name] = data.decode("utf-8", "replace")
    return payload_json, fields, uploads


async def _read_part(part: BodyPartReader, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while chunk := await part.read_chunk(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def _upload(name: str, part: BodyPartReader, data: bytes, position: int) -> Upload:
    """`files[n]` has id n; another named file part (Discord's older `file`) its position."""
    match = _FILE_PART.fullmatch(name)
    content_type = part.headers.get("Content-Type", "application/octet-stream")
    file_id = match.group(1) if match else str(position)
    return Upload(file_id, part.filename or "file", content_type.split(";")[0].strip(), data)


def _bad_form() -> Rejection:
    return Rejection({"code": 50035, "message": "Invalid Form Body", "errors": {}})


def _name_files(payload: dict[str, Any], uploads: list[Upload]) -> list[Upload]:
    """Apply the `attachments` array: each entry's id must name a file part; its
    `filename`/`description` override the part's. Unlisted parts keep their own name."""
    if len({u.id for u in uploads}) != len(uploads):
        raise Rejection(
            form_body([FormError(("files",), "BASE_TYPE_DUPLICATE", "Duplicate file id")])
        )
    by_id = {u.id: u for u in uploads}
    entries = payload.get("attachments") or []
    errors: list[FormError] = []
    named: dict[str, Upload] = {}
    for i, entry in enumerate(entries):
        upload = by_id.get(str(entry.get("id")))
        if upload is None:
            errors.append(
                FormError(("attachments", i), "ATTACHMENT_NOT_FOUND", "Attachment data not found")
            )
            continue
        named[upload.id] = Upload(
            upload.id,
            entry.get("filename") or upload.filename,
            upload.content_type,
            upload.data,
            entry.get("description"),
        )
    files = [named.get(u.id, u) for u in uploads]
    if len(files) > MAX_FILES:
        errors.append(
            FormError(
                ("attachments",), "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_FILES} or fewer in length."
            )
        )
    if errors:
        raise Rejection(form_body(errors))
    return files


def attachment_refs(payload: dict[str, Any]) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every `attachment://name` URL in the embeds: (its path, the name)."""
    for i, embed in enumerate(payload.get("embeds") or []):
        for part, key in _URL_KEYS:
            node = embed.get(part) if isinstance(embed, dict) else None
            url = node.get(key) if isinstance(node, dict) else None
            if isinstance(url, str) and url.startswith(SCHEME):
                yield ("embeds", i, part, key), url[len(SCHEME) :]


def _dangling_refs(payload: dict[str, Any], names: set[str]) -> Iterator[FormError]:
    for path, name in attachment_refs(payload):
        if name not in names:
            yield FormError(path, "ATTACHMENT_NOT_FOUND", f"Attachment data not found: {name}")
