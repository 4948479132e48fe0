"""`[reports]` in herald.toml: defaults, and every bad value named by its key."""

from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from books.settings import load_report_settings, report_settings
from ground.errors import ConfigError


def test_defaults_without_a_table() -> None:
    s = report_settings(None)
    assert (s.timezone, s.day_ends, s.channel) == (ZoneInfo("UTC"), time(0, 0), "trading-alerts")
    assert (s.daily, s.weekly, s.monthly, s.grace_s) == (True, True, True, 120.0)
    assert (s.recent_trades, s.retention_days) == (1000, 400)


def test_a_file_is_read(tmp_path: Path) -> None:
    config = tmp_path / "herald.toml"
    config.write_text(
        '[reports]\ntimezone = "America/New_York"\nday_ends = "17:00"\nweekly = false\n'
        'channel = "maintenance"\ngrace = "30s"\n'
    )
    s = load_report_settings(str(config))
    assert (s.timezone.key, s.day_ends, s.weekly, s.channel, s.grace_s) == (
        "America/New_York", time(17, 0), False, "maintenance", 30.0,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"timezone": "Mars/Olympus"}, '`reports.timezone`: "Mars/Olympus" is not an IANA'),
        ({"day_ends": "5pm"}, '`reports.day_ends`: "5pm" is not a time of day'),
        ({"day_ends": "24:00"}, "`reports.day_ends`"),
        ({"channel": "general"}, "`reports.channel`: 'general' is not a channel"),
        ({"grace": "soon"}, "`reports.grace`: not a duration"),
        ({"recent_trades": 0}, "`reports.recent_trades`: 0 is not in"),
        ({"retention_days": -1}, "`reports.retention_days`"),
        ({"daily": "yes"}, "`reports.daily`: Expected `bool`"),
        ({"colour": "red"}, "`reports`: Object contains unknown field `colour`"),
    ],
)
def test_bad_values_name_their_key(table: dict, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        report_settings(table)
    assert message in str(err.value)
