"""The viewer renders Herald's messages the way Discord would (headless Chromium)."""

import re
from pathlib import Path

import httpx
import pytest

from ground.channels import CHANNELS
from sandbox.browser import BrowserMissing, dump_dom, find_chromium, screenshot
from sandbox.demo import FAMILIES
from sandbox.testing import SandboxHandle, run_sandbox


def _chromium() -> None:
    try:
        find_chromium()
    except BrowserMissing as exc:  # a missing browser is a broken test environment, not a skip
        pytest.fail(str(exc))


def test_the_page_and_its_assets_are_served_locally(
    sandbox: SandboxHandle, client: httpx.Client
) -> None:
    page = client.get(sandbox.base_url + "/")
    assert page.status_code == 200
    assert "viewer.js" in page.text
    assert not re.search(r"(src|href)=\"https?://", page.text), (
        "no external CDN: the machine has no internet"
    )
    for asset in ("viewer.js", "viewer.css"):
        assert client.get(f"{sandbox.base_url}/static/{asset}").status_code == 200


def test_channels_are_listed_herald_first_then_by_name(client: httpx.Client) -> None:
    with run_sandbox(webhooks=["7:t:zz-room", "8:t:aa-room"]) as sandbox:
        names = [c["name"] for c in client.get(sandbox.base_url + "/api/channels").json()]
    assert names == [*CHANNELS, "aa-room", "zz-room"]


@pytest.mark.browser
def test_the_viewer_renders_channels_and_embeds_like_discord(
    sandbox: SandboxHandle, client: httpx.Client, tmp_path: Path
) -> None:
    _chromium()
    for family in ("trade", "risk_alert", "build_success", "maintenance", "health_summary"):
        channel, payload = FAMILIES[family]
        assert (
            client.post(sandbox.webhook_url(channel) + "?wait=true", json=payload).status_code
            == 200
        )
    markup = {"content": "**bold** and ~~struck~~", "allowed_mentions": {"parse": []}}
    assert client.post(sandbox.webhook_url("maintenance"), json=markup).status_code == 204
    client.post(sandbox.webhook_url("market-data"), json={})  # a 400 for the counters

    dom = dump_dom(sandbox.base_url + "/")
    assert 'data-loaded="true"' in dom, "the page's script did not finish its first poll"
    listed = re.findall(r'<li class="channel[^"]*" data-channel="([^"]+)"', dom)
    assert listed == ["all-channels", *CHANNELS]
    assert "💰 Trade Executed - XRP/USDT" in dom
    assert re.search(
        r'class="embed-field-name">Execution Time</div><div class="embed-field-value">3\.42ms<', dom
    )
    # The colour bar is the embed's `color` int (3066993 = #2ecc71), as Discord draws it.
    assert "border-left-color: rgb(46, 204, 113)" in dom
    assert "border-left-color: rgb(230, 126, 34)" in dom  # risk alert orange 15105570
    # Inline fields sit three to a row in a 12-column grid; a non-inline one spans the row.
    assert "grid-column: 1 / 5" in dom
    assert "grid-column: 9 / 13" in dom
    assert "grid-column: 1 / 13" in dom
    # Markdown: code, masked links, role mentions, bold; escaped characters show literally.
    assert "<code>9f2c4e1b7a3d</code>" in dom
    assert re.search(r'<a href="https://ci\.example\.com/[^"]+"[^>]*>trade-server-1\.4\.2', dom)
    assert 'title="role 111111111111111111">@role</span>' in dom
    assert "<strong>bold</strong> and <s>struck</s>" in dom
    assert "set risk.pause_entries=true" in dom
    assert "TLS certificate rotation for *.gateway.example.com" in dom
    assert re.search(r'data-counter="messages">messages <b>6</b>', dom)
    assert re.search(r'data-counter="400s">400s <b>1</b>', dom)

    png = screenshot(sandbox.base_url + "/?channel=trading-alerts", tmp_path / "viewer.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 20_000
