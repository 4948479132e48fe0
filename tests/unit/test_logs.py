"""Structured log lines: both formats carry the fields and never a webhook token."""

import io
import json
import logging

import pytest

from ground.logs import JsonFormatter, KeyValueFormatter, fields
from ground.redact import RedactingFilter
from herald.cli import build_parser, configure_logging

URL = "http://127.0.0.1:8642/api/webhooks/100000000000000002/sandbox-token-trading-alerts"


def emit(formatter: logging.Formatter, *, exc: bool = False) -> str:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(formatter)
    log = logging.getLogger(f"test.logs.{id(formatter)}")
    log.handlers[:] = [handler]
    log.propagate = False
    log.setLevel(logging.INFO)
    extra = fields(event="delivery", channel="trading-alerts", events=3, url=URL, digest=False)
    if exc:
        try:
            raise RuntimeError(f"POST {URL} failed")
        except RuntimeError:
            log.exception("request to %s failed", URL, extra=extra)
    else:
        log.warning("posting to %s", URL, extra=extra)
    return out.getvalue()


@pytest.mark.parametrize("exc", [False, True])
def test_key_value_lines_carry_fields_and_mask_the_token(exc):
    line = emit(KeyValueFormatter(), exc=exc)
    assert "sandbox-token" not in line
    assert "/webhooks/100000000000000002/***" in line
    first = line.splitlines()[0]
    assert " logger=test.logs." in first
    assert "channel=trading-alerts" in first
    assert "events=3" in first
    assert "digest=false" in first
    assert "event=delivery" in first
    assert first.startswith("time=")
    assert 'msg="' in first
    assert ("RuntimeError" in line) is exc


@pytest.mark.parametrize("exc", [False, True])
def test_json_lines_are_one_object_each_and_mask_the_token(exc):
    text = emit(JsonFormatter(), exc=exc)
    assert "sandbox-token" not in text
    [line] = text.splitlines()
    record = json.loads(line)
    assert record["level"] == ("error" if exc else "warning")
    assert record["channel"] == "trading-alerts"
    assert record["events"] == 3
    assert record["digest"] is False
    assert record["url"].endswith("/webhooks/100000000000000002/***")
    assert record["msg"].endswith("/***" + (" failed" if exc else ""))
    assert ("RuntimeError" in record.get("error", "")) is exc


def test_configure_logging_keeps_the_redacting_filter_in_both_formats():
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        for json_lines, kind in ((False, KeyValueFormatter), (True, JsonFormatter)):
            configure_logging("INFO", json_lines=json_lines)
            [handler] = root.handlers
            assert isinstance(handler.formatter, kind)
            assert any(isinstance(f, RedactingFilter) for f in handler.filters)
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["status"], False),
        (["--log-json", "status"], True),
        (["status", "--log-json"], True),
        (["--log-json", "dispatch"], True),
        (["dispatch", "--log-json", "--metrics-port", "9108"], True),
        (["worker", "-n", "1", "--log-json", "--metrics-port", "9110"], True),
    ],
)
def test_log_json_is_accepted_before_or_after_the_command(argv, expected, monkeypatch):
    monkeypatch.delenv("HERALD_LOG_JSON", raising=False)
    assert build_parser(argv).parse_args(argv).log_json is expected


def test_worker_metrics_port_takes_the_offset():
    args = build_parser(["worker"]).parse_args(
        ["worker", "--metrics-port", "9110", "--metrics-port-offset", "3"]
    )
    assert (args.metrics_port, args.metrics_port_offset) == (9110, 3)
