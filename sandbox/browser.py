"""Headless Chromium for the viewer: dump its rendered DOM or take a screenshot.

`--virtual-time-budget` lets the page's JavaScript run its first polls before the DOM
is dumped, so the result is deterministic without sleeping. Networking features that
would call out to Google are off: the machine has no internet and must not try.
"""

import shutil
import subprocess
import tempfile
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
)


class BrowserMissing(RuntimeError):
    """No Chromium on PATH; the message says how to install it."""


def find_chromium() -> str:
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise BrowserMissing(
        "headless Chromium not found on PATH (looked for "
        + ", ".join(CANDIDATES)
        + "): install it with `apt-get install -y chromium`"
    )


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="herald-chromium-") as profile:
        command = [find_chromium(), *FLAGS, f"--user-data-dir={profile}", *args]
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False
        )
    if result.returncode != 0:
        raise RuntimeError(f"chromium exited with {result.returncode}: {result.stderr[-2000:]}")
    return result


def dump_dom(url: str, *, budget_ms: int = 3000, timeout: float = 60.0) -> str:
    """The page's DOM after `budget_ms` of virtual time (its JS has rendered)."""
    return _run([f"--virtual-time-budget={budget_ms}", "--dump-dom", url], timeout).stdout


def screenshot(
    url: str,
    out: Path,
    *,
    size: tuple[int, int] = (1400, 1000),
    budget_ms: int = 3000,
    timeout: float = 60.0,
) -> Path:
    """Save a PNG of the page at `size` after `budget_ms` of virtual time."""
    out.parent.mkdir(parents=True, exist_ok=True)
    _run(
        [
            f"--virtual-time-budget={budget_ms}",
            f"--window-size={size[0]},{size[1]}",
            f"--screenshot={out.resolve()}",
            url,
        ],
        timeout,
    )
    if not out.exists():
        raise RuntimeError(f"chromium did not write {out}")
    return out
