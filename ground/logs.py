"""Structured log lines: `key=value` for people, one JSON object per line for machines.

A log point passes its facts as fields (`extra=fields(channel=..., events=3)`) so a
log pipeline can filter on them without parsing sentences. Both formatters redact every
value they print: `RedactingFilter` only sees the message, and a field could carry a
URL too.
"""

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any, Final

from ground.redact import RedactingFilter, redact

FIELDS_ATTR: Final = "herald_fields"
_BARE: Final = re.compile(r"^[A-Za-z0-9_.:/@+\-#*]+$")


def fields(**values: object) -> dict[str, Any]:
    """`extra=` for a log call: `log.info("delivered", extra=fields(channel="x"))`."""
    return {FIELDS_ATTR: values}


def _record_fields(record: logging.LogRecord) -> dict[str, object]:
    values = getattr(record, FIELDS_ATTR, None)
    return dict(values) if isinstance(values, dict) else {}


def _timestamp(record: logging.LogRecord) -> str:
    when = datetime.fromtimestamp(record.created, UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(record.msecs):03d}Z"


def _exception(formatter: logging.Formatter, record: logging.LogRecord) -> str | None:
    if record.exc_info:
        return redact(formatter.formatException(record.exc_info))
    return redact(record.exc_text) if record.exc_text else None


class KeyValueFormatter(logging.Formatter):
    """`time=... level=warning logger=herald.flush msg="..." channel=trading-alerts`."""

    def format(self, record: logging.LogRecord) -> str:
        pairs: list[tuple[str, object]] = [
            ("time", _timestamp(record)),
            ("level", record.levelname.lower()),
            ("logger", record.name),
            ("msg", record.getMessage()),
            *_record_fields(record).items(),
        ]
        line = " ".join(f"{key}={_kv_value(value)}" for key, value in pairs)
        error = _exception(self, record)
        return f"{line}\n{error}" if error else line


def _kv_value(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        value = round(value, 3)
    text = redact(str(value))
    return text if _BARE.match(text) else json.dumps(text, ensure_ascii=False)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, msg, the fields, and `error`."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, object] = {
            "time": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        for key, value in _record_fields(record).items():
            out.setdefault(key, _json_value(value))
        error = _exception(self, record)
        if error:
            out["error"] = error
        return json.dumps(out, ensure_ascii=False, default=lambda v: redact(str(v)))


def _json_value(value: object) -> object:
    if isinstance(value, str):
        return redact(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(str(value))


def formatter(json_lines: bool) -> logging.Formatter:
    return JsonFormatter() if json_lines else KeyValueFormatter()


def configure_logging(level: str = "INFO", *, json_lines: bool = False) -> None:
    """`key=value` lines (or JSON with `json_lines`); the redacting filter stays on."""
    handler = logging.StreamHandler()
    handler.addFilter(RedactingFilter())
    handler.setFormatter(formatter(json_lines))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "rq.worker", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
