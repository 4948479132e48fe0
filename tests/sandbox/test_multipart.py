"""Execute Webhook with files: the sandbox takes multipart/form-data as Discord does.

`payload_json` is checked like a JSON body, `files[n]` parts are matched to the
`attachments` ids, `attachment://` URLs must name a file, and sizes beyond Discord's
limits get its 413 / 40005. Accepted files come back as attachment objects (or as the
embed's image) whose URL serves the bytes.
"""

import json
import re
import struct
import zlib
from typing import Any

import httpx
import pytest

from sandbox.browser import BrowserMissing, dump_dom, find_chromium
from sandbox.multipart import MAX_FILE_BYTES, MAX_REQUEST_BYTES

ALLOWED = {"parse": []}


def png(width: int = 3, height: int = 2) -> bytes:
    """A real (tiny, grey) PNG of the given size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _chromium() -> None:
    try:
        find_chromium()
    except BrowserMissing as exc:  # a missing browser is a broken test environment, not a skip
        pytest.fail(str(exc))


def post(
    client: httpx.Client,
    url: str,
    payload: dict[str, Any] | None,
    files: list[tuple[str, tuple[str, bytes, str]]],
) -> httpx.Response:
    """Always multipart: `payload_json` as a part without a filename, then the files."""
    parts: list[tuple[str, tuple[str | None, bytes, str]]] = list(files)
    if payload is not None:
        parts.insert(0, ("payload_json", (None, json.dumps(payload).encode(), "application/json")))
    return client.post(url, params={"wait": "true"}, files=parts)


def chart_payload(name: str = "pnl.png") -> dict[str, Any]:
    return {
        "embeds": [{"title": "Daily P&L", "image": {"url": f"attachment://{name}"}}],
        "attachments": [{"id": "0", "filename": name, "description": "P&L curve"}],
        "allowed_mentions": ALLOWED,
    }


def test_an_embed_image_from_a_file_is_stored_and_served(unlimited_sandbox, client):
    image = png(640, 480)
    url = unlimited_sandbox.webhook_url("trading-alerts")
    reply = post(client, url, chart_payload(), [("files[0]", ("pnl.png", image, "image/png"))])
    assert reply.status_code == 200, reply.text
    message = reply.json()
    shown = message["embeds"][0]["image"]
    assert shown["url"].startswith(unlimited_sandbox.base_url + "/attachments/")
    assert shown["url"].endswith("/pnl.png")
    assert (shown["width"], shown["height"]) == (640, 480)
    assert message["attachments"] == []  # Discord: a file an embed shows is not listed again
    served = client.get(shown["url"])
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/png"
    assert served.content == image
    [stored] = unlimited_sandbox.messages("trading-alerts")[-1:]
    assert stored["embeds"][0]["image"]["url"] == shown["url"]


def test_files_no_embed_names_are_the_message_attachments(unlimited_sandbox, client):
    url = unlimited_sandbox.webhook_url("system-status")
    files = [
        ("files[0]", ("a.png", png(), "image/png")),
        ("files[1]", ("log.txt", b"hello", "text/plain")),
    ]
    payload = {"content": "two files", "allowed_mentions": ALLOWED}
    reply = post(client, url, payload, files)
    assert reply.status_code == 200, reply.text
    attachments = reply.json()["attachments"]
    assert [(a["filename"], a["size"], a["content_type"]) for a in attachments] == [
        ("a.png", len(png()), "image/png"),
        ("log.txt", 5, "text/plain"),
    ]
    assert all(a["id"].isdigit() for a in attachments)
    assert client.get(attachments[1]["url"]).content == b"hello"


def test_files_alone_are_a_message_but_nothing_is_empty(unlimited_sandbox, client):
    url = unlimited_sandbox.webhook_url("system-status")
    alone = post(client, url, None, [("files[0]", ("a.png", png(), "image/png"))])
    assert alone.status_code == 200, alone.text
    empty = post(client, url, {"allowed_mentions": ALLOWED}, [])
    assert empty.status_code == 400
    assert empty.json()["code"] == 50006


def test_an_attachment_id_without_its_file_part_is_attachment_not_found(unlimited_sandbox, client):
    url = unlimited_sandbox.webhook_url("system-status")
    payload = chart_payload()
    payload["attachments"].append({"id": "1", "filename": "other.png"})
    reply = post(client, url, payload, [("files[0]", ("pnl.png", png(), "image/png"))])
    assert reply.status_code == 400
    body = reply.json()
    assert body["code"] == 50035
    assert body["errors"] == {
        "attachments": {
            "1": {
                "_errors": [
                    {"code": "ATTACHMENT_NOT_FOUND", "message": "Attachment data not found"}
                ]
            }
        }
    }


def test_an_attachment_url_naming_no_file_is_rejected_at_its_path(unlimited_sandbox, client):
    url = unlimited_sandbox.webhook_url("system-status")
    payload = chart_payload("missing.png")
    del payload["attachments"]
    reply = post(client, url, payload, [("files[0]", ("pnl.png", png(), "image/png"))])
    assert reply.status_code == 400
    errors = reply.json()["errors"]
    assert errors["embeds"]["0"]["image"]["url"]["_errors"][0]["code"] == "ATTACHMENT_NOT_FOUND"
    as_json = client.post(url, json=chart_payload())  # no files at all: same answer
    assert as_json.status_code == 400
    assert "attachments" in as_json.json()["errors"]


def test_payload_json_is_validated_like_a_json_body(unlimited_sandbox, client):
    url = unlimited_sandbox.webhook_url("system-status")
    payload = chart_payload()
    payload["embeds"][0]["title"] = "x" * 257
    reply = post(client, url, payload, [("files[0]", ("pnl.png", png(), "image/png"))])
    assert reply.status_code == 400
    assert reply.json()["errors"]["embeds"]["0"]["title"]["_errors"][0]["code"] == (
        "BASE_TYPE_MAX_LENGTH"
    )
    garbled = client.post(
        url, data={"payload_json": "{not json"}, files=[("files[0]", ("a.png", png(), "image/png"))]
    )
    assert garbled.status_code == 400
    assert garbled.json()["code"] == 50109
    eleven = [{"id": str(i), "filename": f"{i}.png"} for i in range(11)]
    many = post(client, url, {"content": "x", "attachments": eleven}, [])
    assert many.status_code == 400
    assert "attachments" in many.json()["errors"]


def test_a_file_over_ten_mib_is_discords_413(unlimited_sandbox, client):
    url = unlimited_sandbox.webhook_url("system-status")
    big = b"\0" * (MAX_FILE_BYTES + 1)
    reply = post(client, url, {"content": "big"}, [("files[0]", ("big.bin", big, "application/x"))])
    assert reply.status_code == 413
    assert reply.json() == {"code": 40005, "message": "Request entity too large"}
    assert unlimited_sandbox.stats()["too_large"] >= 1
    just = b"\0" * MAX_FILE_BYTES
    fits = post(client, url, {"content": "fits"}, [("files[0]", ("ok.bin", just, "application/x"))])
    assert fits.status_code == 200, fits.text


def test_a_body_over_25_mib_is_discords_413(unlimited_sandbox, client):
    url = unlimited_sandbox.webhook_url("system-status")
    part = b"\0" * (MAX_FILE_BYTES - 16)
    files = [(f"files[{i}]", (f"{i}.bin", part, "application/x")) for i in range(3)]
    assert 3 * len(part) > MAX_REQUEST_BYTES
    reply = post(client, url, {"content": "three"}, files)
    assert reply.status_code == 413
    assert reply.json()["code"] == 40005


@pytest.mark.parametrize("where", ["attachment id", "attachment url"])
def test_rejections_do_not_store_files(unlimited_sandbox, client, where):
    url = unlimited_sandbox.webhook_url("critical-alerts")
    before = len(unlimited_sandbox.messages("critical-alerts"))
    payload = chart_payload()
    if where == "attachment id":
        payload["attachments"][0]["id"] = "7"
    else:
        payload["embeds"][0]["image"]["url"] = "attachment://nope.png"
    reply = post(client, url, payload, [("files[0]", ("pnl.png", png(), "image/png"))])
    assert reply.status_code == 400
    assert len(unlimited_sandbox.messages("critical-alerts")) == before


@pytest.mark.browser
def test_the_viewer_shows_the_embed_image_and_the_attached_file(sandbox, client):
    _chromium()
    url = sandbox.webhook_url("trading-alerts")
    files = [
        ("files[0]", ("pnl.png", png(320, 200), "image/png")),
        ("files[1]", ("extra.png", png(50, 50), "image/png")),
    ]
    payload = chart_payload()
    payload["attachments"].append({"id": "1", "filename": "extra.png"})
    reply = post(client, url, payload, files)
    assert reply.status_code == 200, reply.text
    message = reply.json()
    dom = dump_dom(sandbox.base_url + "/")
    assert 'data-loaded="true"' in dom
    embed_image = re.search(r'<img class="embed-image" src="([^"]+)"[^>]*>', dom)
    assert embed_image is not None, dom[-2000:]
    assert embed_image.group(1) == message["embeds"][0]["image"]["url"]
    listed = re.search(r'<img class="attachment-image" src="([^"]+)"[^>]*>', dom)
    assert listed is not None
    assert listed.group(1) == message["attachments"][0]["url"]
    assert 'alt="extra.png"' in listed.group(0)
