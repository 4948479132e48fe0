"""`[monitor]` in herald.toml: a bad check stops start-up with its key named."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from ground.errors import ConfigError
from monitor.maintenance import configured_covers
from monitor.settings import monitor_settings


def settings(*checks, **monitor):
    return monitor_settings({**monitor, "checks": list(checks)})


def test_defaults_and_durations():
    s = settings({"name": "api", "kind": "http", "url": "http://127.0.0.1:1/health"})
    check = s.checks[0]
    assert (s.interval_s, s.summary_every_s) == (30.0, 300.0)
    assert (check.interval_s, check.timeout_s) == (30.0, 10.0)
    assert (check.failure_threshold, check.success_threshold) == (3, 2)
    assert check.options["url"] == "http://127.0.0.1:1/health"


@pytest.mark.parametrize(
    ("check", "key"),
    [
        ({"name": "api", "kind": "http"}, "monitor.checks[0].url"),
        ({"name": "api", "kind": "tcp", "host": "h"}, "monitor.checks[0].port"),
        ({"name": "api", "kind": "ping"}, "monitor.checks[0].kind"),
        ({"name": "api", "kind": "command", "argv": []}, "monitor.checks[0].argv"),
        ({"name": "api", "kind": "process"}, "monitor.checks[0]"),
        ({"name": "a b", "kind": "heartbeat"}, "monitor.checks[0].name"),
        ({"name": "api", "kind": "heartbeat", "interval": "soon"}, "monitor.checks[0].interval"),
        ({"name": "api", "kind": "heartbeat", "colour": "red"}, "monitor.checks[0]"),
        ({"name": "api", "kind": "heartbeat", "failure_threshold": 0}, "failure_threshold"),
        ({"name": "api", "kind": "heartbeat", "server": "x" * 101}, "monitor.checks[0].server"),
        ({"name": "api", "kind": "heartbeat", "server": " "}, "monitor.checks[0].server"),
    ],
)
def test_a_bad_check_names_its_key(check, key):
    with pytest.raises(ConfigError, match=key.replace("[", r"\[").replace("]", r"\]")):
        settings(check)


def test_names_are_unique():
    with pytest.raises(ConfigError, match=r"monitor.checks\[1\].name.*twice"):
        settings({"name": "a", "kind": "heartbeat"}, {"name": "a", "kind": "heartbeat"})


def test_a_command_line_is_split_without_a_shell():
    s = settings({"name": "c", "kind": "command", "argv": "check-thing --flag 'a b'"})
    assert s.checks[0].options["argv"] == ["check-thing", "--flag", "a b"]


def test_a_bad_window_names_its_key():
    with pytest.raises(ConfigError, match=r"monitor.maintenance\[0\].timezone"):
        settings(maintenance=[{"start": "2026-12-01T02:00", "duration": "1h", "timezone": "Mars"}])
    with pytest.raises(ConfigError, match=r"monitor.maintenance\[0\].checks.*nope"):
        settings(
            {"name": "api", "kind": "heartbeat"},
            maintenance=[{"start": "2026-12-01T02:00", "duration": "1h", "checks": ["nope"]}],
        )


def test_a_daily_window_keeps_its_local_time_across_dst():
    s = settings(
        {"name": "api", "kind": "heartbeat"},
        maintenance=[
            {
                "start": "2026-03-01T02:30",
                "duration": "30m",
                "every": "1d",
                "timezone": "America/New_York",
            }
        ],
    )
    window, check = s.windows[0], s.checks[0]
    zone = ZoneInfo("America/New_York")

    def at(text):
        return datetime.fromisoformat(text).replace(tzinfo=zone).timestamp()

    # Before and after the 2026-03-08 spring-forward: 02:45 local is inside both times.
    assert configured_covers(window, check, at("2026-03-02T02:45"))
    assert configured_covers(window, check, at("2026-03-20T02:45"))
    assert not configured_covers(window, check, at("2026-03-20T03:15"))
    assert not configured_covers(window, check, at("2026-02-28T02:45"))  # before the start
