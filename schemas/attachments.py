"""Files an event carries to Discord (a report's chart), and Discord's limits on them.

The bytes ride inside the envelope, so the stream entry, the outbox item, the dead
letter and its replay all hold the same file without a second store. Limits, from
Discord's own documents:

- `MAX_FILES` = 10 files per message: the OpenAPI spec's `maxItems` of the Execute
  Webhook `attachments` array (`IncomingWebhookRequestPartial`).
- `MAX_FILE_BYTES` = 10 MiB per file: Discord's default upload limit for a server
  without boosts (a webhook has no Nitro to raise it).
- `MAX_REQUEST_BYTES` = 25 MiB (26,214,400 bytes) per request: the maximum request size
  when sending a message (Discord's Uploading Files reference); beyond a limit Discord
  answers `413 {"code": 40005, "message": "Request entity too large"}`.
  `MESSAGE_FILE_BYTES` leaves 1 MiB of it for `payload_json` and the multipart framing.
"""

import re
from collections.abc import Iterable
from typing import Annotated, Final

import msgspec
from msgspec import Meta

from ground.errors import InvalidEvent

MAX_FILES: Final = 10
MAX_FILE_BYTES: Final = 10 * 1024 * 1024
MAX_REQUEST_BYTES: Final = 25 * 1024 * 1024
MESSAGE_FILE_BYTES: Final = MAX_REQUEST_BYTES - 1024 * 1024
DESCRIPTION_MAX: Final = 1024
FILENAME_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\Z"
"""Letters, digits, `.`, `_`, `-`: an `attachment://` URL must name the file exactly,
and Discord does not match names with spaces or other characters in an embed."""
CONTENT_TYPE_PATTERN: Final = r"^[a-z]+/[A-Za-z0-9.+-]+\Z"

Filename = Annotated[str, Meta(pattern=FILENAME_PATTERN)]
ContentType = Annotated[str, Meta(max_length=100, pattern=CONTENT_TYPE_PATTERN)]
FileData = Annotated[bytes, Meta(min_length=1, max_length=MAX_FILE_BYTES)]
Description = Annotated[str, Meta(max_length=DESCRIPTION_MAX)]

_FILENAME = re.compile(FILENAME_PATTERN)
_CONTENT_TYPE = re.compile(CONTENT_TYPE_PATTERN)


class Attachment(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One file: an image is shown in the event's embed (`attachment://<filename>`)."""

    filename: Filename
    data: FileData
    content_type: ContentType = "image/png"
    description: Description | None = None
    """Alt text Discord shows for the file."""

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


Attachments = Annotated[tuple[Attachment, ...], Meta(max_length=MAX_FILES)]


def check_attachments(attachments: Iterable[Attachment]) -> tuple[Attachment, ...]:
    """The files as a tuple, each within Discord's limits, no name twice; else `InvalidEvent`
    naming the file and the rule. For call sites; decode checks the same per file."""
    files = tuple(attachments)
    if len(files) > MAX_FILES:
        raise InvalidEvent(f"{len(files)} attachments; Discord allows {MAX_FILES} per message")
    seen: set[str] = set()
    for index, file in enumerate(files):
        if not isinstance(file, Attachment):
            raise InvalidEvent(
                f"attachments[{index}] is a {type(file).__name__}; "
                "pass schemas.Attachment(filename=..., data=...)"
            )
        _check_file(file)
        if file.filename in seen:
            raise InvalidEvent(f"attachment {file.filename!r} given twice: give each its own name")
        seen.add(file.filename)
    total = sum(len(file.data) for file in files)
    if total > MESSAGE_FILE_BYTES:
        raise InvalidEvent(
            f"attachments total {total} bytes; one message carries at most "
            f"{MESSAGE_FILE_BYTES} (Discord's 25 MiB request limit less 1 MiB for the JSON)"
        )
    return files


def _check_file(file: Attachment) -> None:
    name = file.filename
    if not isinstance(name, str) or not _FILENAME.match(name):
        raise InvalidEvent(
            f"attachment filename {name!r} is not allowed: use 1-100 letters, digits, '.', '_' "
            "or '-', starting with a letter or digit (e.g. 'pnl-2026-01-31.png')"
        )
    if not isinstance(file.data, bytes) or not file.data:
        raise InvalidEvent(f"attachment {name!r}: data must be non-empty bytes")
    if len(file.data) > MAX_FILE_BYTES:
        raise InvalidEvent(
            f"attachment {name!r} is {len(file.data)} bytes; Discord takes at most "
            f"{MAX_FILE_BYTES} bytes (10 MiB) per file"
        )
    if not isinstance(file.content_type, str) or not _CONTENT_TYPE.match(file.content_type):
        raise InvalidEvent(
            f"attachment {name!r}: content_type {file.content_type!r} is not a media type "
            "such as 'image/png'"
        )
    description = file.description
    if description is not None and len(description) > DESCRIPTION_MAX:
        raise InvalidEvent(
            f"attachment {name!r}: description is {len(description)} characters; "
            f"Discord allows {DESCRIPTION_MAX}"
        )
