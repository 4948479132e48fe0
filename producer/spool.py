"""An append-only file of encoded events, kept while Redis is unreachable.

Frames are `>IB` (length, lane index) followed by the payload. A sidecar `.offset` file
records how far replay has got, written after each successful XADD batch, so a crash
mid-replay re-sends at most one batch (the dispatcher drops the duplicate ids). A torn
final frame, left by a crash during a write, is cut off when the spool is opened.
"""

import fcntl
import os
import struct
from pathlib import Path

from schemas.base import Lane

_HEADER = struct.Struct(">IB")
_LANES = list(Lane)
Record = tuple[Lane, bytes]


class Spool:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._offset_path = path.with_name(path.name + ".offset")
        self._file = open(path, "a+b")  # noqa: SIM115 - lives as long as the spool
        fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._offset = self._read_offset()
        self._cut_torn_tail()

    @property
    def pending(self) -> bool:
        return self._offset < self._size()

    def append(self, records: list[Record]) -> None:
        frames = b"".join(
            _HEADER.pack(len(payload), _LANES.index(lane)) + payload for lane, payload in records
        )
        self._file.write(frames)
        self._file.flush()

    def read(self, max_records: int) -> tuple[list[Record], int]:
        """Up to `max_records` from the replay offset, and the offset just after them."""
        self._file.seek(self._offset)
        records: list[Record] = []
        offset = self._offset
        while len(records) < max_records:
            header = self._file.read(_HEADER.size)
            if len(header) < _HEADER.size:
                break
            length, lane = _HEADER.unpack(header)
            payload = self._file.read(length)
            if len(payload) < length:
                break
            records.append((_LANES[lane], payload))
            offset += _HEADER.size + length
        self._file.seek(0, os.SEEK_END)
        return records, offset

    def commit(self, offset: int) -> None:
        """Mark everything before `offset` as delivered; empty the file once all is."""
        if offset >= self._size():
            self._file.truncate(0)
            offset = 0
        tmp = self._offset_path.with_suffix(".tmp")
        tmp.write_text(str(offset))
        tmp.replace(self._offset_path)
        self._offset = offset

    def close(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()

    def _size(self) -> int:
        return os.fstat(self._file.fileno()).st_size

    def _read_offset(self) -> int:
        try:
            return int(self._offset_path.read_text() or 0)
        except (FileNotFoundError, ValueError):
            return 0

    def _cut_torn_tail(self) -> None:
        if self._offset > self._size():
            self._offset = 0
        _, end = self.read(2**62)
        if end < self._size():
            self._file.truncate(end)


def open_spool(spool_path: str | Path | None, source: str) -> Spool:
    """`<source>.spool`, so a restarted process replays what its predecessor spooled;
    a second live process of the same source gets its own `<source>-<pid>.spool`."""
    if spool_path is not None:
        return Spool(Path(spool_path))
    base = Path(os.environ.get("HERALD_SPOOL_DIR", Path.home() / ".cache" / "herald" / "spool"))
    try:
        return Spool(base / f"{source}.spool")
    except BlockingIOError:
        return Spool(base / f"{source}-{os.getpid()}.spool")
