"""Uploaded files: kept in bounded memory, served back like Discord's CDN.

Discord answers an upload with attachment objects whose `url` serves the bytes; the
sandbox does the same from `/attachments/{channel_id}/{attachment_id}/{filename}`.
The newest files are kept up to `max_bytes` in total (oldest dropped first), so a long
rehearsal cannot exhaust memory; a dropped file answers 404, as an expired CDN link.
"""

import struct
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Final

PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
DEFAULT_MAX_BYTES: Final = 256 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class StoredFile:
    id: str
    channel_id: str
    filename: str
    content_type: str
    data: bytes
    description: str | None = None

    @property
    def path(self) -> str:
        return f"/attachments/{self.channel_id}/{self.id}/{self.filename}"

    def describe(self, base_url: str) -> dict[str, Any]:
        """Discord's attachment object (width and height for a PNG, as Discord gives)."""
        url = base_url + self.path
        out: dict[str, Any] = {
            "id": self.id,
            "filename": self.filename,
            "size": len(self.data),
            "url": url,
            "proxy_url": url,
            "content_type": self.content_type,
        }
        if self.description:
            out["description"] = self.description
        size = png_size(self.data)
        if size is not None:
            out["width"], out["height"] = size
        return out


def png_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a PNG's IHDR chunk, or None for anything else."""
    if len(data) < 24 or not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


class FileStore:
    """Files by attachment id, newest kept within `max_bytes`."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self._files: OrderedDict[str, StoredFile] = OrderedDict()

    def __len__(self) -> int:
        return len(self._files)

    def add(self, file: StoredFile) -> None:
        self._files[file.id] = file
        self.bytes += len(file.data)
        while self.bytes > self.max_bytes and len(self._files) > 1:
            _, dropped = self._files.popitem(last=False)
            self.bytes -= len(dropped.data)

    def get(self, attachment_id: str) -> StoredFile | None:
        return self._files.get(attachment_id)

    def clear(self) -> None:
        self._files.clear()
        self.bytes = 0
