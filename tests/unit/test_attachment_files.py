"""Attachments in the contract and the renderer: limits, unique names, embed refs,
splitting batches at Discord's file limits, and the multipart request itself."""

import json
import time
from email.parser import BytesParser
from email.policy import default
from typing import Any

import httpx
import msgspec
import pytest

from ground.errors import InvalidEvent
from producer import Publisher
from schemas import Attachment, decode, encode, wrap
from schemas.attachments import MAX_FILE_BYTES, MAX_FILES, MESSAGE_FILE_BYTES, check_attachments
from tests.discord_schema import assert_valid_payload
from tests.engine.test_delivery import trade
from worker.batch import pack
from worker.discord import DiscordClient
from worker.files import assemble, unique, weight
from worker.head import Head
from worker.outbox import OutboxItem
from worker.payload import build_payload
from worker.render import render_embed

URL = "https://discord.test/api/webhooks/111/FAKE-TOKEN-abcdefghijklmnopqrstuvwxyz0123"


def png(name: str = "chart.png", size: int = 8) -> Attachment:
    return Attachment(filename=name, data=b"\x89PNG" + b"\0" * size)


def envelope(*files: Attachment, i: int = 1) -> Any:
    return wrap(trade(i), source="t", now_ns=time.time_ns(), attachments=files)


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ([png("has space.png")], "filename 'has space.png' is not allowed"),
        ([png("../x.png")], "filename '../x.png' is not allowed"),
        ([png(), png()], "'chart.png' given twice"),
        ([png(f"{i}.png") for i in range(MAX_FILES + 1)], "11 attachments; Discord allows 10"),
        ([Attachment(filename="a.png", data=b"")], "data must be non-empty bytes"),
        ([Attachment(filename="b.bin", data=b"\0" * (MAX_FILE_BYTES + 1))], "10 MiB"),
        ([Attachment(filename="c.png", data=b"x", content_type="png")], "not a media type"),
        ([Attachment(filename="d.png", data=b"x", description="x" * 1025)], "allows 1024"),
        (["chart.png"], "attachments[0] is a str"),
    ],
)
def test_bad_attachments_are_invalid_events_naming_the_file(files, message):
    with pytest.raises(InvalidEvent, match=message.replace("[", r"\[").replace(".", r"\.")):
        check_attachments(files)
    with pytest.raises(InvalidEvent):
        wrap(trade(1), source="t", now_ns=time.time_ns(), attachments=files)


def test_a_message_worth_of_bytes_is_the_most_one_event_carries():
    third = MESSAGE_FILE_BYTES // 3 + 1
    files = [Attachment(filename=f"{i}.bin", data=b"\0" * third) for i in range(3)]
    with pytest.raises(InvalidEvent, match="attachments total"):
        check_attachments(files)


def test_publish_refuses_bad_attachments_in_the_callers_thread(tmp_path):
    with Publisher("redis://127.0.0.1:1/0", source="t", spool_path=tmp_path / "s") as pub:
        with pytest.raises(InvalidEvent, match="not allowed"):
            pub.publish(trade(1), attachments=[png("bad name.png")])
        assert pub.stats().published == 0


def test_attachments_survive_the_wire_and_bad_ones_fail_at_decode():
    env = envelope(png(), Attachment(filename="log.txt", data=b"hi", content_type="text/plain"))
    assert decode(encode(env)) == env
    raw = msgspec.msgpack.encode({**msgspec.to_builtins(env), "attachments": []})
    assert decode(raw).attachments == ()
    bad = msgspec.to_builtins(env, builtin_types=(bytes,))
    bad["attachments"][0]["filename"] = "a b.png"
    with pytest.raises(InvalidEvent, match=r"attachments\[0\]\.filename"):
        decode(msgspec.msgpack.encode(bad))


def test_an_event_without_files_encodes_as_before_plus_an_empty_list():
    env = envelope()
    assert env.attachments == ()
    assert "image" not in render_embed(env)


def test_the_first_image_is_the_embeds_image():
    text = Attachment(filename="notes.txt", data=b"x", content_type="text/plain")
    embed = render_embed(envelope(text, png("b.png"), png("c.png")))
    assert embed["image"] == {"url": "attachment://b.png"}
    assert "image" not in render_embed(envelope(text))


def test_names_are_made_unique_per_message_and_embeds_follow():
    embeds = [render_embed(envelope(png(), i=i)) for i in range(3)]
    files = [(png(),), (), (png(), png("chart-2.png", 3))]
    out_embeds, out_files = assemble(embeds, files)
    # event 2's chart.png takes the free chart-2.png, so its own chart-2.png moves on
    assert [f.filename for f in out_files] == ["chart.png", "chart-2.png", "chart-2-2.png"]
    assert [e.get("image") for e in out_embeds] == [
        {"url": "attachment://chart.png"},
        {"url": "attachment://chart.png"},  # embed 1 has no file of its own: untouched
        {"url": "attachment://chart-2.png"},
    ]
    assert unique("README", {"README", "README-2"}) == "README-3"
    assert unique(".env", {".env"}) == ".env-2"


def test_a_batch_splits_at_ten_files_and_at_the_byte_limit():
    embeds = [render_embed(envelope(i=i)) for i in range(4)]
    assert [len(m) for m in pack(embeds, [(4, 10)] * 4)] == [2, 2]
    half = MESSAGE_FILE_BYTES // 2 + 1
    assert [len(m) for m in pack(embeds, [(1, half)] * 4)] == [1, 1, 1, 1]
    assert [len(m) for m in pack(embeds, [(0, 0)] * 4)] == [4]
    assert weight([png(), png(size=2)]) == (2, 18)


def _head(*envs: Any) -> Head:
    return Head.read([OutboxItem(raw=encode(e)).pack() for e in envs])


def test_a_head_without_files_sends_plain_json_requests():
    head = _head(envelope(i=1), envelope(i=2))
    assert not head.has_files
    request = head.request([0, 1], 2, {})
    assert request.files == []


def test_the_multipart_request_is_what_discord_takes():
    head = _head(envelope(png(), i=1), envelope(png(), i=2))
    order = sorted(head.embeds)
    request = head.request(order[: head.first_message(order)], 2, {})
    payload = build_payload(request.embeds, files=request.files)
    assert_valid_payload(payload)
    seen: list[httpx.Request] = []

    def answer(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        return httpx.Response(200, json={"id": "1"})

    client = DiscordClient(transport=httpx.MockTransport(answer))
    assert client.execute(URL, payload, files=request.files).status == 200
    [sent] = seen
    ctype = sent.headers["content-type"].encode()
    form = BytesParser(policy=default).parsebytes(
        b"Content-Type: " + ctype + b"\r\n\r\n" + sent.read()
    )
    parts = {p.get_param("name", header="content-disposition"): p for p in form.iter_parts()}
    body = json.loads(parts["payload_json"].get_content())
    assert_valid_payload(body)
    assert body["attachments"] == [
        {"id": "0", "filename": "chart.png"},
        {"id": "1", "filename": "chart-2.png"},
    ]
    assert [e["image"]["url"] for e in body["embeds"]] == [
        "attachment://chart.png",
        "attachment://chart-2.png",
    ]
    for n, file in enumerate(request.files):
        part = parts[f"files[{n}]"]
        assert part.get_filename() == file.filename
        assert part.get_content_type() == "image/png"
        assert part.get_payload(decode=True) == file.data
    client.execute(URL, build_payload(request.embeds))  # no files: JSON as always
    assert seen[1].headers["content-type"] == "application/json"
