"""Producer processes for the failover run: the chaos workload plus bursts on demand.

They run the real `producer.Publisher`: given the Sentinel address it connects through
`ground.connect`, and each XADD batch travels in one pipeline ending in `WAIT 1`
(`ground.replicated.ReplicatedScript`); a batch no replica confirmed goes to the spool and
is sent again (the dispatcher's dedupe drops the copy).
"""

import random
import time
from multiprocessing.sharedctypes import Synchronized

import msgspec

from producer import Publisher
from tests.chaos.workload import MAKERS, ProducerJob


def produce(job: ProducerJob, burst: Synchronized, burst_size: int) -> None:  # type: ignore[type-arg]
    """The chaos workload's steady mix for `job.seconds`, plus `burst_size` market and
    trading events whenever `burst` is incremented; then drain the spool."""
    rng = random.Random(job.seed)
    streams = [(name, getattr(job.mix, name)) for name in MAKERS]
    due, seen_burst = dict.fromkeys(MAKERS, 0.0), 0
    with (
        open(job.ids_path, "w") as ids,
        Publisher(job.redis_url, source=f"failover-{job.index}", spool_path=job.spool_path) as pub,
    ):
        start = last = time.monotonic()
        while (now := time.monotonic()) - start < job.seconds:
            elapsed, last = now - last, now
            for name, rate in streams:
                due[name] += rate * elapsed
                while due[name] >= 1:
                    due[name] -= 1
                    ids.write(pub.publish(MAKERS[name](rng)) + "\n")
            if burst.value != seen_burst:
                seen_burst = burst.value
                for n in range(burst_size):
                    maker = MAKERS["trading"] if n % 10 == 0 else MAKERS["market"]
                    ids.write(pub.publish(maker(rng)) + "\n")
            ids.flush()
            time.sleep(0.02)  # pacing the workload, not synchronisation
        deadline = time.monotonic() + 300
        while not pub.flush(5) and time.monotonic() < deadline:
            pass
        stats = pub.stats()
    (job.out_dir / f"producer-{job.index}.json").write_text(
        msgspec.json.encode(stats._asdict()).decode()
    )
