"""The report charts as PNG: a day's cumulative P&L curve, a week's or month's P&L per day.

Drawn by hand with Pillow rather than with matplotlib: a chart this simple needs lines,
bars, text and a grid, and Pillow does them in ~10 ms after a ~25 ms import, where
matplotlib costs ~170 MB installed and a ~0.25 s import (README, "Dependencies").
Drawn at twice the size and scaled down, which anti-aliases the lines; the colours are
Discord's dark theme, so the image sits in an embed as if it belonged there.
"""

import io
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Final

from PIL import Image, ImageDraw, ImageFont

WIDTH: Final = 800
HEIGHT: Final = 400
"""Discord shows an embed image at most ~400 px wide: 2× that stays sharp on HiDPI."""
_S: Final = 2  # supersampling factor
_BG: Final = (43, 45, 49)
_GRID: Final = (63, 65, 71)
_ZERO: Final = (128, 132, 142)
_MUTED: Final = (181, 186, 193)
_TEXT: Final = (242, 243, 245)
_GREEN: Final = (87, 242, 135)
_RED: Final = (237, 66, 69)
_LEFT, _RIGHT, _TOP, _BOTTOM = 100, 28, 64, 48
"""Margins at 1×: y labels, breathing room, the title, x labels."""

Rgb = tuple[int, int, int]


@dataclass(frozen=True)
class _Frame:
    """The plot area (in supersampled pixels) and its value range."""

    left: int
    top: int
    right: int
    bottom: int
    low: float
    high: float

    def y(self, value: float) -> float:
        return self.bottom - (value - self.low) / (self.high - self.low) * (self.bottom - self.top)

    def x(self, share: float) -> float:
        return self.left + share * (self.right - self.left)


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's bundled scalable font: no system font needed on a bare server."""
    return ImageFont.load_default(size * _S)


def daily_chart(
    points: Sequence[tuple[datetime, float]],
    *,
    start: datetime,
    end: datetime,
    title: str,
    upto: datetime | None = None,
) -> bytes:
    """The cumulative P&L from `start` (0) through each (time, cumulative P&L) point,
    held flat to `upto` (default `end`); the x axis spans the period as it really is
    (23 or 25 h on a DST day), labelled in the period's own wall-clock hours."""
    span = _seconds(start, end)
    stop = min(end, upto or end)
    curve = [(0.0, 0.0)]
    curve += [(_seconds(start, t) / span, v) for t, v in sorted(points) if start <= t]
    curve.append((max(curve[-1][0], _seconds(start, stop) / span), curve[-1][1]))
    image, draw, frame = _canvas([v for _, v in curve], title, curve[-1][1])
    for share, label in hour_ticks(start, end):
        _x_label(draw, frame, frame.x(share), label, grid=True)
    if len(points) == 0:
        _note(draw, frame, "no trades")
    _area(image, frame, curve)
    _curve(draw, frame, curve)
    return _png(image)


def bars_chart(days: Sequence[tuple[date, float]], *, title: str) -> bytes:
    """One bar per day (green gain, red loss) from the zero line; every day of the
    period should be given, quiet ones as 0, so the gaps read as days."""
    values = [v for _, v in days]
    image, draw, frame = _canvas(values, title, sum(values))
    slot = (frame.right - frame.left) / max(1, len(days))
    every = max(1, math.ceil(len(days) / 11))
    weekly = len(days) <= 7
    zero = frame.y(0.0)
    for i, (day, value) in enumerate(days):
        middle = frame.left + slot * (i + 0.5)
        if i % every == 0:
            _x_label(draw, frame, middle, day.strftime("%a %d" if weekly else "%d"), grid=False)
        if value:
            half = max(_S, slot * 0.35)
            top, bottom = sorted((frame.y(value), zero))
            draw.rectangle((middle - half, top, middle + half, bottom), fill=_colour(value))
    if not any(values):
        _note(draw, frame, "no trades")
    return _png(image)


def _canvas(
    values: Sequence[float], title: str, total: float
) -> tuple[Image.Image, ImageDraw.ImageDraw, _Frame]:
    """The background, title, total, y grid and zero line; returns the frame to plot in."""
    image = Image.new("RGB", (WIDTH * _S, HEIGHT * _S), _BG)
    draw = ImageDraw.Draw(image)
    low, high, step = nice_range(min(values, default=0.0), max(values, default=0.0))
    frame = _Frame(_LEFT * _S, _TOP * _S, (WIDTH - _RIGHT) * _S, (HEIGHT - _BOTTOM) * _S, low, high)
    draw.text((16 * _S, 16 * _S), title, fill=_TEXT, font=_font(26))
    draw.text(
        ((WIDTH - _RIGHT) * _S, 16 * _S),
        compact_money(total, sign=True),
        fill=_colour(total),
        font=_font(24),
        anchor="ra",
    )
    ticks = round((high - low) / step)
    for i in range(ticks + 1):
        value = low + i * step
        y = frame.y(value)
        draw.line((frame.left, y, frame.right, y), fill=_GRID, width=_S)
        label = compact_money(value)
        draw.text((frame.left - 8 * _S, y), label, fill=_MUTED, font=_font(18), anchor="rm")
    zero = frame.y(0.0)
    draw.line((frame.left, zero, frame.right, zero), fill=_ZERO, width=2 * _S)
    return image, draw, frame


def _x_label(draw: ImageDraw.ImageDraw, frame: _Frame, x: float, label: str, *, grid: bool) -> None:
    if grid:
        draw.line((x, frame.top, x, frame.bottom), fill=_GRID, width=_S)
    draw.text((x, frame.bottom + 8 * _S), label, fill=_MUTED, font=_font(18), anchor="ma")


def _note(draw: ImageDraw.ImageDraw, frame: _Frame, text: str) -> None:
    middle = ((frame.left + frame.right) / 2, (frame.top + frame.bottom) / 2)
    draw.text(middle, text, fill=_MUTED, font=_font(18), anchor="mm")


def _area(image: Image.Image, frame: _Frame, curve: Sequence[tuple[float, float]]) -> None:
    """A translucent fill between the curve and zero: green above, red below."""
    zero = frame.y(0.0)
    polygon = [(frame.x(curve[0][0]), zero)]
    polygon += [(frame.x(s), frame.y(v)) for s, v in curve]
    polygon.append((frame.x(curve[-1][0]), zero))
    mask = Image.new("L", image.size, 0)
    ImageDraw.Draw(mask).polygon(polygon, fill=56)
    split = round(zero)
    width, height = image.size
    if split > 0:
        image.paste(_GREEN, (0, 0, width, split), mask.crop((0, 0, width, split)))
    if split < height:
        image.paste(_RED, (0, split, width, height), mask.crop((0, split, width, height)))


def _curve(draw: ImageDraw.ImageDraw, frame: _Frame, curve: Sequence[tuple[float, float]]) -> None:
    """The line, each piece coloured by its side of zero (split where it crosses)."""
    for (s0, v0), (s1, v1) in itertools.pairwise(curve):
        pieces = [(s0, v0, s1, v1)]
        if v0 * v1 < 0:
            cross = s0 + (s1 - s0) * (v0 / (v0 - v1))
            pieces = [(s0, v0, cross, 0.0), (cross, 0.0, s1, v1)]
        for a, va, b, vb in pieces:
            colour = _colour(va if va else vb)
            xy = (frame.x(a), frame.y(va), frame.x(b), frame.y(vb))
            draw.line(xy, fill=colour, width=3 * _S, joint="curve")


def hour_ticks(start: datetime, end: datetime) -> list[tuple[float, str]]:
    """Wall-clock hours every 3 h (every 4 h past 26 h) from the period's start, each
    placed at its true instant: a skipped DST hour is skipped, a repeated one counted."""
    span = _seconds(start, end)
    step = 3 if span <= 26 * 3600 else 4
    wall = start.replace(tzinfo=None)
    ticks = []
    for k in range(0, int(span // 3600) + 2, step):
        naive = wall + timedelta(hours=k)
        moment = naive.replace(tzinfo=start.tzinfo)
        if moment.astimezone(UTC).astimezone(start.tzinfo).replace(tzinfo=None) != naive:
            continue  # a wall time the DST gap skipped (normalises to another hour)
        share = _seconds(start, moment) / span
        if 0 <= share <= 1:
            ticks.append((share, f"{naive:%H:%M}"))
    return ticks


def _seconds(start: datetime, end: datetime) -> float:
    """Real seconds between two instants: Python subtracts datetimes that share a
    ZoneInfo as wall-clock times, which gives a 23-hour DST day 24 hours."""
    return (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds()


def nice_range(low: float, high: float, ticks: int = 5) -> tuple[float, float, float]:
    """(low, high, step) enclosing both values and zero, on a 1-2-5 step for ~`ticks`."""
    low, high = min(low, 0.0), max(high, 0.0)
    if high - low < 1e-9:
        high = 1.0
    raw = (high - low) / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return math.floor(low / step) * step, math.ceil(high / step) * step, step


def compact_money(value: float, *, sign: bool = False) -> str:
    """`$0`, `$250`, `-$1.5k`, `+$2.25M`: short enough for an axis label."""
    prefix = "-" if value < 0 else ("+" if sign and value > 0 else "")
    size = abs(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if size >= limit:
            return f"{prefix}${size / limit:.3g}{suffix}"
    text = f"{size:.2f}" if sign or size < 10 else f"{size:.4g}"
    return f"{prefix}${text.removesuffix('.00') if not sign else text}"


def _colour(value: float) -> Rgb:
    return _RED if value < 0 else _GREEN


def _png(image: Image.Image) -> bytes:
    """Scaled down to 1× (the anti-aliasing), quantised to a palette: ~4× smaller files
    than RGB, with no visible loss on a chart of a dozen colours."""
    small = image.resize((WIDTH, HEIGHT), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    small.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(buffer, "PNG")
    return buffer.getvalue()
