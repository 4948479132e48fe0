"""The one backoff rule: exponential from `base`, capped, with jitter.

The flush job (per channel), `herald publish --direct`, the dispatcher and the producer
(while Redis is away) all wait by it, each with its own base and cap.
"""

import random


def backoff(failures: int, *, base: float, cap: float, jitter: float = 0.2) -> float:
    """Seconds to wait after the `failures`-th consecutive failure (1 for the first):
    `base * 2**(failures-1)`, at most `cap`, spread by ±`jitter` so a pool of clients
    that failed together does not retry together."""
    delay = min(base * 2.0 ** max(failures - 1, 0), cap)
    return delay * random.uniform(1 - jitter, 1 + jitter) if jitter else delay
