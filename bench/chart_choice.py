"""The plotting library choice, measured: Pillow by hand (books/chart.py) against
matplotlib's Agg backend drawing the same two charts at the same size.

    .venv/bin/python bench/chart_choice.py            # Pillow (Herald's dependency)
    /path/to/venv-with-matplotlib/bin/python bench/chart_choice.py --matplotlib

Prints the import time (a fresh interpreter, median of 5), the render time of a day's
cumulative curve (288 points) and a month's bars (30), median of 20, and the PNG sizes.
"""

import argparse
import io
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

IMPORTS = {
    "pillow": "from PIL import Image, ImageDraw, ImageFont",
    "matplotlib": "import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot",
}


def sample() -> tuple[list[tuple[datetime, float]], list[tuple[date, float]]]:
    rng = random.Random(3)
    start, total, points = datetime(2026, 12, 1, tzinfo=UTC), 0.0, []
    for minute in range(0, 24 * 60, 5):
        total += rng.gauss(0.5, 30)
        points.append((start + timedelta(minutes=minute), total))
    days = [(date(2026, 11, 1) + timedelta(days=i), rng.gauss(50, 300)) for i in range(30)]
    return points, days


def import_ms(library: str) -> float:
    code = (
        f"import time; t = time.perf_counter(); {IMPORTS[library]}; print(time.perf_counter() - t)"
    )
    runs = [float(subprocess.check_output([sys.executable, "-c", code])) for _ in range(5)]
    return statistics.median(runs) * 1000


def pillow_charts() -> tuple[bytes, bytes]:
    from books.chart import bars_chart, daily_chart

    points, days = sample()
    start = points[0][0]
    daily = daily_chart(points, start=start, end=start + timedelta(days=1), title="Daily P&L")
    return daily, bars_chart(days, title="Monthly P&L")


def matplotlib_charts() -> tuple[bytes, bytes]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points, days = sample()
    out = []
    for kind in ("daily", "monthly"):
        fig, ax = plt.subplots(figsize=(8, 4), dpi=100, facecolor="#2b2d31")
        ax.set_facecolor("#2b2d31")
        if kind == "daily":
            xs, ys = [p[0] for p in points], [p[1] for p in points]
            ax.plot(xs, ys, color="#ed4245", linewidth=1.5)
            ax.fill_between(xs, ys, 0, alpha=0.25, color="#ed4245")
        else:
            values = [v for _, v in days]
            colours = ["#57f287" if v >= 0 else "#ed4245" for v in values]
            ax.bar([d.day for d, _ in days], values, color=colours)
        ax.axhline(0, color="#80848e")
        ax.grid(color="#3f4147")
        ax.tick_params(colors="#b5bac1")
        ax.set_title(f"{kind} P&L", color="#f2f3f5", loc="left")
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", facecolor=fig.get_facecolor())
        plt.close(fig)
        out.append(buffer.getvalue())
    return out[0], out[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matplotlib", action="store_true")
    args = parser.parse_args()
    library = "matplotlib" if args.matplotlib else "pillow"
    render = matplotlib_charts if args.matplotlib else pillow_charts
    daily, monthly = render()  # warm: fonts loaded, caches built
    times = []
    for _ in range(20):
        started = time.perf_counter()
        render()
        times.append((time.perf_counter() - started) * 1000 / 2)
    print(
        f"{library}: import {import_ms(library):.0f} ms, render {statistics.median(times):.1f} ms"
        f" per chart (median of 20), PNG daily {len(daily) / 1024:.1f} KiB,"
        f" monthly {len(monthly) / 1024:.1f} KiB"
    )


if __name__ == "__main__":
    main()
