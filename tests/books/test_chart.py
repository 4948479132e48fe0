"""The report charts are real PNGs of the right size, with the colours of their story.

Not a pixel snapshot (font rendering may differ between Pillow builds): the checks are
the PNG signature and size, and that gains show green and losses red where drawn."""

import io
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from PIL import Image

from books.chart import (
    HEIGHT,
    WIDTH,
    bars_chart,
    compact_money,
    daily_chart,
    hour_ticks,
    nice_range,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
GREEN, RED = "green", "red"


def opened(png: bytes) -> Image.Image:
    assert png.startswith(PNG_SIGNATURE)
    image = Image.open(io.BytesIO(png))
    image.load()  # decodes every chunk: a truncated or corrupt file fails here
    assert image.format == "PNG"
    assert image.size == (WIDTH, HEIGHT)
    return image.convert("RGB")


def share_of(image: Image.Image, colour: str, box: tuple[int, ...]) -> float:
    """Fraction of the box's pixels of a clearly green (or red) hue: anti-aliasing and the
    palette shift exact values, never the hue."""
    pixels = list(image.crop(box).get_flattened_data())
    if colour == GREEN:
        hits = sum(1 for r, g, b in pixels if g > r + 60 and g > b + 30)
    else:
        hits = sum(1 for r, g, b in pixels if r > g + 60 and r > b + 60)
    return hits / len(pixels)


def test_a_winning_day_is_a_green_curve_in_a_valid_png() -> None:
    start = datetime(2026, 12, 1, tzinfo=UTC)
    points = [(start + timedelta(minutes=5 * i), 10.0 * i) for i in range(1, 200)]
    png = daily_chart(points, start=start, end=start + timedelta(days=1), title="Daily P&L")
    image = opened(png)
    plot = (110, 70, WIDTH - 30, HEIGHT - 50)
    assert share_of(image, GREEN, plot) > 0.002
    assert share_of(image, RED, plot) < 0.0005
    assert len(png) < 100_000, "an embed image should stay small"


def test_a_day_that_turns_negative_is_red_below_zero() -> None:
    start = datetime(2026, 12, 1, tzinfo=UTC)
    points = [(start + timedelta(hours=h), 50.0 - 20.0 * h) for h in range(1, 24)]
    image = opened(
        daily_chart(points, start=start, end=start + timedelta(days=1), title="Daily P&L")
    )
    plot = (110, 70, WIDTH - 30, HEIGHT - 50)
    assert share_of(image, RED, plot) > share_of(image, GREEN, plot) > 0


def test_bars_are_green_for_gains_and_red_for_losses() -> None:
    monday = date(2026, 11, 30)
    days = [(monday + timedelta(days=i), v) for i, v in enumerate([100, -50, 0, 30, -80, 0, 10])]
    image = opened(bars_chart(days, title="Weekly P&L"))
    slot = (WIDTH - 100 - 28) / 7
    middle = [int(100 + slot * (i + 0.5)) for i in range(7)]
    top, bottom = 64, HEIGHT - 48
    assert share_of(image, GREEN, (middle[0] - 3, top, middle[0] + 3, bottom)) > 0.2
    assert share_of(image, RED, (middle[1] - 3, top, middle[1] + 3, bottom)) > 0.1
    quiet = (middle[2] - 3, top, middle[2] + 3, bottom)
    assert share_of(image, GREEN, quiet) == share_of(image, RED, quiet) == 0


def test_empty_periods_still_give_a_chart() -> None:
    start = datetime(2026, 12, 1, tzinfo=UTC)
    opened(daily_chart([], start=start, end=start + timedelta(days=1), title="Daily P&L"))
    month = [(date(2026, 12, 1) + timedelta(days=i), 0.0) for i in range(31)]
    opened(bars_chart(month, title="Monthly P&L"))


def test_a_dst_day_is_drawn_over_its_real_23_or_25_hours() -> None:
    london = ZoneInfo("Europe/London")
    spring = datetime(2026, 3, 29, tzinfo=london)  # 01:00 -> 02:00: 23 h
    spring_end = datetime(2026, 3, 30, tzinfo=london)
    ticks = {label: share for share, label in hour_ticks(spring, spring_end)}
    assert ticks["03:00"] == 2 / 23  # 00:00 GMT to 03:00 BST is two real hours
    assert hour_ticks(spring, spring_end)[0] == (0.0, "00:00")
    assert ticks["00:00"] == 1.0  # the next midnight closes the axis
    autumn = datetime(2026, 10, 25, tzinfo=london)  # 02:00 -> 01:00: 25 h
    ticks = {
        label: share for share, label in hour_ticks(autumn, datetime(2026, 10, 26, tzinfo=london))
    }
    assert ticks["03:00"] == 4 / 25
    assert ticks["21:00"] == 22 / 25
    points = [(spring + timedelta(hours=h), float(h)) for h in range(1, 23)]
    opened(daily_chart(points, start=spring, end=spring_end, title="DST"))


def test_an_fx_day_is_labelled_from_its_own_start() -> None:
    new_york = ZoneInfo("America/New_York")
    start = datetime(2026, 11, 30, 17, 0, tzinfo=new_york)
    labels = [label for _, label in hour_ticks(start, datetime(2026, 12, 1, 17, tzinfo=new_york))]
    assert labels[:3] == ["17:00", "20:00", "23:00"]
    assert labels[-1] == "17:00"


def test_axis_ranges_are_round_and_include_zero() -> None:
    assert nice_range(0, 0) == (0, 1, 0.2)
    assert nice_range(-691.6, 160) == (-800, 200, 200)
    low, high, step = nice_range(12.0, 980.0)
    assert (low, high, step) == (0, 1000, 200)


def test_axis_labels_are_short() -> None:
    assert compact_money(0) == "$0"
    assert compact_money(250) == "$250"
    assert compact_money(-1500) == "-$1.5k"
    assert compact_money(2_250_000, sign=True) == "+$2.25M"
    assert compact_money(-691.62, sign=True) == "-$691.62"
    assert compact_money(2.5) == "$2.50"
