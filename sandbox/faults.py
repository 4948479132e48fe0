"""Injected failures: 5xx answers, slow answers, dropped connections and 429 storms.

All randomness comes from one seeded `random.Random`, so a rehearsal that failed can be
replayed with the same `--seed` and get the same faults in the same order.
"""

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from sandbox.config import Faults


@dataclass(frozen=True)
class Storm:
    """Every request gets 429 until `until` (monotonic); `via=False` imitates Cloudflare."""

    until: float
    retry_after: float
    is_global: bool = False
    via: bool = True


@dataclass(frozen=True)
class Decision:
    """What to do with one request before normal handling."""

    storm: Storm | None = None
    drop: bool = False
    fail_status: int | None = None
    delay: float = 0.0


class FaultInjector:
    """Draws a `Decision` per request from the current `Faults` and any active storm."""

    def __init__(
        self, faults: Faults, seed: int | None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.initial, self.seed, self.clock = faults, seed, clock
        self.faults = faults
        self.storm: Storm | None = None
        self.rng = random.Random(seed)

    def reset(self) -> None:
        self.faults, self.storm, self.rng = self.initial, None, random.Random(self.seed)

    def update(self, changes: dict[str, Any]) -> None:
        """Apply a partial update (the `/admin/faults` body); ValueError names a bad key."""
        changes = dict(changes)
        storm = changes.pop("storm", None)
        if "seed" in changes:
            self.rng = random.Random(changes.pop("seed"))
        if "fail_statuses" in changes:
            changes["fail_statuses"] = tuple(int(s) for s in changes["fail_statuses"])
        unknown = set(changes) - set(Faults.__dataclass_fields__)
        if unknown:
            raise ValueError(
                f"unknown fault setting(s) {sorted(unknown)}; "
                f"known: {sorted(Faults.__dataclass_fields__)}"
            )
        self.faults = replace(self.faults, **{k: _number(k, v) for k, v in changes.items()})
        if storm is not None:
            self.start_storm(**storm) if storm else self.stop_storm()

    def start_storm(
        self,
        seconds: float,
        retry_after: float = 1.0,
        is_global: bool = False,
        via: bool = True,
        **extra: Any,
    ) -> None:
        is_global = bool(extra.pop("global", is_global))
        if extra:
            raise ValueError(
                f"unknown storm setting(s) {sorted(extra)}; "
                "known: seconds, retry_after, global, via"
            )
        if seconds <= 0 or retry_after < 0:
            raise ValueError("storm needs seconds > 0 and retry_after >= 0")
        self.storm = Storm(self.clock() + float(seconds), float(retry_after), is_global, bool(via))

    def stop_storm(self) -> None:
        self.storm = None

    def decide(self) -> Decision:
        """Storm first (it answers everything), then drop, fail, slow; one RNG draw each."""
        if self.storm is not None:
            if self.clock() < self.storm.until:
                return Decision(storm=self.storm)
            self.storm = None
        f = self.faults
        if f.drop_rate and self.rng.random() < f.drop_rate:
            return Decision(drop=True)
        if f.fail_rate and self.rng.random() < f.fail_rate:
            return Decision(fail_status=self.rng.choice(f.fail_statuses))
        if f.slow_rate and self.rng.random() < f.slow_rate:
            return Decision(delay=f.slow_seconds)
        return Decision()

    def describe(self) -> dict[str, Any]:
        storm = self.storm
        active = storm is not None and self.clock() < storm.until
        return {
            "fail_rate": self.faults.fail_rate,
            "fail_statuses": list(self.faults.fail_statuses),
            "slow_rate": self.faults.slow_rate,
            "slow_seconds": self.faults.slow_seconds,
            "drop_rate": self.faults.drop_rate,
            "storm": None
            if not active or storm is None
            else {
                "remaining_seconds": round(storm.until - self.clock(), 3),
                "retry_after": storm.retry_after,
                "global": storm.is_global,
                "via": storm.via,
            },
        }


def _number(key: str, value: Any) -> Any:
    if key == "fail_statuses":
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{key} must be a number, got {value!r}")
    return float(value)
