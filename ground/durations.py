"""Human durations on the command line: `93s`, `1m30s`, `2h`, `1d`, `1.5s`, ISO `PT93S`."""

import re
from datetime import timedelta

_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta | str:
    """A timedelta, or the text unchanged when it is ISO 8601 (msgspec parses that)."""
    value = text.strip().lower()
    if value.startswith(("p", "-p")):
        return text
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return timedelta(seconds=float(value))
    parts = _PART.findall(value)
    if not parts or "".join(n + u for n, u in parts) != value:
        raise ValueError(f"not a duration: {text!r} (use e.g. 93s, 1m30s, 2h, 1d or PT93S)")
    return timedelta(seconds=sum(float(n) * _UNITS[u] for n, u in parts))
