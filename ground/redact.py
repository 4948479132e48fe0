"""The one choke point for secrets: webhook tokens and Redis passwords.

Everything that turns a URL or a third-party error into text a person may see (logs,
exceptions, DLQ entries, `status`, metrics labels) goes through `redact`. The logging
filter applies it to every record Herald emits, so a forgotten call still cannot leak.
"""

import logging
import re

_WEBHOOK = re.compile(r"(/webhooks/\d+/)[^/?#\s\"'<>]+")
_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s]+@", re.IGNORECASE)
MASK = "***"


def redact(text: str) -> str:
    """Replace webhook tokens and URL passwords with `***`; safe on any string."""
    return _URL_PASSWORD.sub(rf"\g<1>{MASK}@", _WEBHOOK.sub(rf"\g<1>{MASK}", text))


class RedactingFilter(logging.Filter):
    """Redacts the fully formatted message and any exception text of every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True
