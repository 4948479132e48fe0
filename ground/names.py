"""Names a component picks for itself: a monitor check, a heartbeat.

They end up in Redis keys (`keyspace.heartbeat`), log lines and Discord cards, so the
rule keeps them short and free of spaces, quotes and markdown. One rule for both, so a
check named in herald.toml can watch the heartbeat a component sends under that name.
"""

import re
from typing import Final

CHECK_NAME: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@/+-]{0,99}\Z")
"""1-100 characters of letters, digits and `._-:@/+`, starting with a letter or digit
(`\\Z`, not `$`: `$` would also accept a trailing newline)."""

CHECK_NAME_RULE: Final = (
    "1-100 characters of letters, digits and . _ - : @ / +, starting with a letter or digit"
)


def check_name(text: str) -> str:
    """`text` when it is a valid check or heartbeat name; else ValueError saying the rule."""
    if not isinstance(text, str) or not CHECK_NAME.match(text):
        raise ValueError(f"{text!r} is not a valid name: use {CHECK_NAME_RULE}")
    return text
