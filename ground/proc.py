"""Process helpers: children that die with their parent, free ports, waiting on a condition."""

import ctypes
import signal
import socket
import time
from collections.abc import Callable
from typing import Any

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """`preexec_fn`: ask Linux to SIGTERM this child when its parent dies, even by SIGKILL
    (what `rq worker-pool` lacks, so its children are orphaned)."""
    libc: Any = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def port_is_free(port: int) -> bool:
    """Whether nothing listens on 127.0.0.1:`port`. SO_REUSEADDR, as redis-server sets
    it: connections of a stopped server in TIME_WAIT do not count, a listener does."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def wait_until(
    predicate: Callable[[], object], timeout: float, what: str, interval: float = 0.01
) -> None:
    """Poll `predicate` until truthy; raise TimeoutError naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.1f}s waiting for {what}")
        time.sleep(interval)
