"""What a probe kind reports, and the one way a failure becomes a short, safe detail.

Every kind returns an `Outcome`; `Prober.probe` turns it into a `Sample`. Whatever a
failure says (an exception, a command's output, a value from a body) passes through
`safe` here, so a URL password or webhook token never reaches a page or the status.
"""

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

import redis.exceptions

from ground.redact import redact

DETAIL_CHARS: Final = 200
"""A detail is a line in a page, not a log."""


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    detail: str
    timed: bool = True
    """Whether the probe's duration is the target's latency (False: it never answered, or
    there is nothing to time, like a heartbeat's age)."""


def seconds(value: float) -> str:
    """`5s`, `0.5s`: the timeout as the check's author wrote it."""
    return f"{value:g}s"


def safe(text: str, limit: int = DETAIL_CHARS) -> str:
    """Redacted, on one line, at most `limit` characters (redacted first, so a cut
    cannot leave half a secret that `redact` no longer recognises)."""
    line = " ".join(redact(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def describe(exc: BaseException, timeout_s: float) -> str:
    """A failed probe's exception as a person reads it: `connection refused`, `timed out
    after 5s`, `cannot resolve the host name`, else the exception's own message."""
    for link in _chain(exc):
        if isinstance(link, TimeoutError | redis.exceptions.TimeoutError):
            return f"timed out after {seconds(timeout_s)}"
        if isinstance(link, ConnectionRefusedError):
            return "connection refused"
        if isinstance(link, socket.gaierror):
            return f"cannot resolve the host name ({link.strerror})"
    return safe(str(exc) or type(exc).__name__)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and what caused it: aiohttp and redis wrap the OSError that says why."""
    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        yield link
        link = link.__cause__ or link.__context__
