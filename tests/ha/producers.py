"""Producer processes for the failover run: the chaos workload plus bursts on demand.

They run the real `producer.Publisher`: given the Sentinel address it connects through
`ground.connect`, and each XADD batch travels in one pipeline ending in `WAIT 1`
(`ground.replicated.ReplicatedScript`); a batch no replica confirmed goes to the spool and
is sent again (the dispatcher's dedupe drops the copy).
"""

import random
from multiprocessing.sharedctypes import Synchronized

from producer import Publisher
from tests.chaos.workload import MAKERS, ProducerJob, run_job


def produce(job: ProducerJob, burst: Synchronized, burst_size: int) -> None:  # type: ignore[type-arg]
    """The chaos workload's steady mix for `job.seconds`, plus `burst_size` market and
    trading events whenever `burst` is incremented; then drain the spool."""
    seen = 0

    def bursts(pub: Publisher, rng: random.Random) -> list[str]:
        nonlocal seen
        if burst.value == seen:
            return []
        seen = burst.value
        makers = [MAKERS["trading"] if n % 10 == 0 else MAKERS["market"] for n in range(burst_size)]
        return [pub.publish(make(rng)) for make in makers]

    run_job(job, "failover", bursts)
