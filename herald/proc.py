"""Child processes that cannot outlive the process that started them."""

import ctypes
import signal
from typing import Any

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """`preexec_fn`: ask Linux to SIGTERM this child when its parent dies, even by SIGKILL
    (what `rq worker-pool` lacks, so its children are orphaned)."""
    libc: Any = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
