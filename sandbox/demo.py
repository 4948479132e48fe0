"""Herald's real messages, one per event family, as Discord Execute Webhook bodies.

They are read from `sandbox/samples/messages.json`, which `python -m herald.samples`
renders with Herald's own renderer (fixed inputs, so the file only changes when the
rendering does, and a unit test fails when the two disagree). The sandbox reads a file
rather than importing the renderer because it plays Discord: it must not share code
with what it checks. The contract tests, the viewer screenshot and the benchmark post
these bodies. Each sets `allowed_mentions` explicitly, as Herald does: event text is
untrusted and must never ping; #critical-alerts messages page one role.
"""

import json
from pathlib import Path
from typing import Any, Final

MESSAGES_FILE: Final = Path(__file__).with_name("samples") / "messages.json"
NO_PINGS: Final[dict[str, Any]] = {"parse": []}


def _load(path: Path) -> dict[str, tuple[str, dict[str, Any]]]:
    messages = json.loads(path.read_text(encoding="utf-8"))["messages"]
    return {family: (entry["channel"], entry["payload"]) for family, entry in messages.items()}


FAMILIES: Final = _load(MESSAGES_FILE)
"""Event family (`trade`, `signal`, `risk_alert`, ...) -> (its channel, the request body)."""


def batched(*payloads: dict[str, Any]) -> dict[str, Any]:
    """Several messages' embeds in one request, the shape of Herald's coalesced messages."""
    embeds = [embed for payload in payloads for embed in payload["embeds"]]
    return {"username": "Herald", "allowed_mentions": NO_PINGS, "embeds": embeds}
