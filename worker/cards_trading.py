"""Trading cards: trades, signals, P&L, risk and the daily summary."""

import re
from decimal import Decimal

from schemas import PnlUpdate, RiskAlert, SignalGenerated, TradeExecuted
from worker.embeds import Card, Colour, field, text, title
from worker.formatting import amount, fraction_percent, millis, money, number, plain
from worker.markdown import escape


def base_asset(pair: str) -> str:
    """`XRP/USD` -> `XRP`: the unit an amount of that pair is counted in."""
    return re.split(r"[/\-_]", pair, maxsplit=1)[0]


def pnl(value: Decimal) -> str:
    """The seed's `📈 $12.50` / `📉 $-3.20`."""
    return f"{'📈' if value >= 0 else '📉'} {money(value)}"


def gain_colour(value: Decimal) -> Colour:
    return Colour.GREEN if value >= 0 else Colour.RED


def trade_executed(ev: TradeExecuted) -> Card:
    fields = [
        field("Side", ev.side.value),
        field("Amount", amount(ev.amount, escape(base_asset(ev.pair)))),
        field("Price", money(ev.price, 6)),
        field("P&L", pnl(ev.pnl)),
        field("Execution Time", millis(ev.latency_ms)),
        field("Strategy", text(ev.strategy)),
    ]
    return Card(
        title("💰", "Trade Executed", ev.pair),
        gain_colour(ev.pnl),
        fields,
        timestamp=ev.executed_at,
    )


def confidence_emoji(confidence: float) -> str:
    """The seed's thresholds: 🔥 above 0.8, 📊 above 0.6, otherwise ⚡."""
    if confidence > 0.8:
        return "🔥"
    return "📊" if confidence > 0.6 else "⚡"


def signal_generated(ev: SignalGenerated) -> Card:
    fields = [
        field("Signal", text(ev.signal)),
        field("Action", ev.action.value),
        field("Confidence", fraction_percent(ev.confidence)),
        field("Target Price", money(ev.target_price, 6)),
        field("Stop Loss", money(ev.stop_loss, 6)),
        field("Risk/Reward", number(ev.risk_reward, 2)),
        field("Strategy", text(ev.strategy)),
    ]
    emoji = confidence_emoji(ev.confidence)
    return Card(title(emoji, "Trading Signal", ev.pair), Colour.BLUE, fields)


def with_unit(value: Decimal, unit: str | None) -> str:
    """Risk limits as the producer states them: `12.5%`, `$50,000`, `1,000 XRP`."""
    shown = plain(value)
    if unit is None:
        return shown
    if unit == "%":
        return f"{shown}%"
    if unit.upper() in {"USD", "$"}:
        return f"${shown}"
    return f"{shown} {escape(unit)}"


def risk_alert(ev: RiskAlert) -> Card:
    fields = [
        field("Type", text(ev.type)),
        field("Threshold", with_unit(ev.threshold, ev.unit)),
        field("Current", with_unit(ev.current, ev.unit)),
        field("Action", text(ev.action), inline=False),
    ]
    return Card(title("⚠️", "Risk Alert", ev.type), Colour.ORANGE, fields)


def pnl_update(ev: PnlUpdate) -> Card:
    """📈 green by default; 📉 red on a losing day, like the trade card."""
    fields = [
        field("Daily P&L", pnl(ev.daily_pnl)),
        field("Total P&L", pnl(ev.total_pnl)),
        field("Open Positions", number(ev.open_positions, 0)),
        field("Exposure", money(ev.exposure)),
    ]
    emoji = "📈" if ev.daily_pnl >= 0 else "📉"
    return Card(title(emoji, "P&L Update"), gain_colour(ev.daily_pnl), fields)
