"""`python -m sandbox.screenshot out.png`: demo messages in all five channels, screenshotted.

Produces docs/images/sandbox-viewer.png: starts a sandbox, posts one realistic message
per Herald event family (plus rejected bodies and 429s so the counters move), and
takes a headless-Chromium screenshot of the viewer.
"""

import argparse
import sys
from pathlib import Path

import httpx

from sandbox.browser import screenshot
from sandbox.demo import FAMILIES, batched
from sandbox.testing import run_sandbox


def post_demo(urls: dict[str, str]) -> None:
    """One message per family in its channel, and a coalesced batch in #trading-alerts."""
    with httpx.Client(timeout=10) as client:
        for channel, payload in FAMILIES.values():
            client.post(urls[channel] + "?wait=true", json=payload).raise_for_status()
        _, trade = FAMILIES["trade"]
        _, signal = FAMILIES["signal"]
        client.post(
            urls["trading-alerts"] + "?wait=true", json=batched(trade, signal)
        ).raise_for_status()
        client.post(urls["market-data"], json={"embeds": [{"title": "x" * 257}]})  # a 400
        for _ in range(6):  # invalid requests count toward the 5/2s limit: the last get 429
            client.post(urls["maintenance"], json={})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.screenshot", description=__doc__.split("\n")[0]
    )
    parser.add_argument("out", type=Path, help="PNG to write, e.g. docs/images/sandbox-viewer.png")
    parser.add_argument("--channel", default=None, help="show one channel instead of all")
    parser.add_argument("--size", default="1400x1000", help="window size WxH (default 1400x1000)")
    args = parser.parse_args(argv)
    width, height = (int(n) for n in args.size.split("x"))
    with run_sandbox() as sandbox:
        post_demo(sandbox.webhook_urls())
        url = sandbox.base_url + "/" + (f"?channel={args.channel}" if args.channel else "")
        screenshot(url, args.out, size=(width, height))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
