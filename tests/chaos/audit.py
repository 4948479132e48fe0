"""After the chaos: what became of every published id, and a scan for leaked tokens."""

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import redis

from ground import keyspace
from producer.streams import LANES, stream_key
from sandbox.testing import SandboxHandle
from worker.channels import CHANNELS
from worker.dlq import DeadLetterQueue
from worker.lanes import lag_and_pending
from worker.ledger import LedgerReader, account, percentile

EVENT_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$")


def footer_ids(sandbox: SandboxHandle) -> tuple[Counter[str], bool]:
    """Event ids seen in embed footers (the last ` · ` part), and whether the sandbox
    still holds every message it accepted (it keeps the newest 10,000 per channel)."""
    seen: Counter[str] = Counter()
    messages = sandbox.messages()
    for message in messages:
        for embed in message.get("embeds", []):
            text = (embed.get("footer") or {}).get("text", "")
            last = text.rsplit(" · ", 1)[-1]
            if EVENT_ID.match(last):
                seen[last] += 1
    complete = len(messages) == sandbox.stats()["messages"]
    return seen, complete


@dataclass
class Audit:
    published: int
    counts: dict[str, int]
    lost: list[str]
    duplicated: list[str]
    delivered_not_in_sandbox: list[str]
    sandbox_complete: bool
    dead_letter_reasons: dict[str, int]
    latency_p50_s: float | None
    latency_p99_s: float | None
    sandbox: dict[str, Any]
    stats: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "published": self.published,
            "outcomes": self.counts,
            "lost": len(self.lost),
            "lost_sample": self.lost[:20],
            "duplicated": len(self.duplicated),
            "duplicated_pct": round(100 * len(self.duplicated) / max(1, self.published), 4),
            "duplicated_sample": self.duplicated[:20],
            "delivered_not_in_sandbox": len(self.delivered_not_in_sandbox),
            "sandbox_kept_every_message": self.sandbox_complete,
            "dead_letter_reasons": self.dead_letter_reasons,
            "latency_p50_s": self.latency_p50_s,
            "latency_p99_s": self.latency_p99_s,
            "http_400": self.sandbox.get("bad_request", 0),
            "http_429_rate_limited": self.sandbox.get("rate_limited", 0),
            "http_429_storm": self.sandbox.get("storm_429", 0),
            "sandbox": self.sandbox,
            "engine_stats": self.stats,
        }


def audit(
    client: redis.Redis, sandbox: SandboxHandle, ids: list[str], reader: LedgerReader | None = None
) -> Audit:
    """`reader`: one polled all along (the ledger may have been trimmed since)."""
    if reader is None:
        acc = account(client, ids)
    else:
        reader.poll()
        acc = reader.finish()
    footers, complete = footer_ids(sandbox)
    published = set(ids)
    lost = acc.missing(ids)
    if complete:  # the ledger says delivered: the sandbox must have it in a footer
        ghost = [i for i in ids if acc.outcomes.get(i) == "delivered" and i not in footers]
    else:
        ghost = []
    duplicated = sorted(
        {i for i, n in footers.items() if n > 1 and i in published} | set(acc.repeats)
    )
    reasons: Counter[str] = Counter(_reason_class(r) for r in acc.reasons.values())
    stats = {k.decode(): int(v) for k, v in client.hgetall(keyspace.STATS).items()}
    sandbox_stats = sandbox.stats()
    sandbox_stats.pop("faults", None)
    return Audit(
        published=len(ids),
        counts=acc.counts(ids),
        lost=lost + ghost,
        duplicated=duplicated,
        delivered_not_in_sandbox=ghost,
        sandbox_complete=complete,
        dead_letter_reasons=dict(reasons),
        latency_p50_s=percentile(acc.latencies_s, 50),
        latency_p99_s=percentile(acc.latencies_s, 99),
        sandbox=sandbox_stats,
        stats=stats,
    )


def _reason_class(reason: str) -> str:
    return reason.split(":", maxsplit=1)[0][:60]


def engine_idle(client: redis.Redis) -> bool:
    """Nothing left in any outbox and nothing unread or unacknowledged in any stream."""
    if any(client.llen(keyspace.outbox(c)) for c in CHANNELS):
        return False
    # lag_and_pending, not XINFO's `lag`: Redis 7.0 restores a stale entries-read after an
    # AOF rewrite and a restart, so `lag` can stay > 0 when all was read (RELIABILITY, bug 3).
    streams = [stream_key(lane) for lane in LANES]
    return not any(any(lag_and_pending(client, s)) for s in streams)


def dead_letters_of(client: redis.Redis, channel: str) -> int:
    return sum(1 for e in DeadLetterQueue(client).entries() if e.channel == channel)


# -- secrets ------------------------------------------------------------------------------


SANDBOX_BANNER = "sandbox.log"
"""The sandbox prints its own default webhook URLs at start (their tokens are public by
design); it is Discord's stand-in, not Herald, so only the fake token is looked for there."""


def scan_for_secrets(
    run_dir: Path, needles: list[str], metrics_ports: list[int], *, fake_token: str
) -> list[str]:
    """Every place (file or metrics endpoint) where a webhook token appears."""
    hits: list[str] = []
    for path in sorted(run_dir.rglob("*")):
        if not path.is_file() or path.suffix in {".spool", ".sock"} or path.name == "report.json":
            continue
        if path.name.startswith("ids-"):
            continue
        data = path.read_bytes()
        wanted = [fake_token] if path.name == SANDBOX_BANNER else needles
        hits += [f"{path}: {n}" for n in wanted if n.encode() in data]
    for port in metrics_ports:
        try:
            text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        except httpx.HTTPError:
            continue
        (run_dir / f"metrics-{port}.txt").write_text(text)
        hits += [f"metrics :{port}: {n}" for n in needles if n in text]
    return hits
