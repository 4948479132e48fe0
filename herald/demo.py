"""A scripted trading day, published through the real Producer (`herald up --demo`).

Each scene is what a component of the user's system would publish: CI and deploys,
a restart, signals and trades, a risk alert, a service flapping (dedupe), an exchange
disconnect, a market burst (coalescing, digests, critical alerts first), maintenance,
and the day's P&L report, computed by the books from the trades above (not made up).
Seeded, so every run publishes the same day.
"""

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import redis

from books.periods import period_containing
from books.schedule import reporter
from books.service import books_lag
from books.settings import DEFAULT, ReportSettings
from ground.proc import wait_until
from producer import Publisher
from schemas import (
    Action,
    AnyEvent,
    BuildStarted,
    BuildSuccess,
    ConnectionLost,
    ConnectionStatus,
    DeploymentStarted,
    DeploymentSuccess,
    HighLatency,
    MaintenanceScheduled,
    ManualOperation,
    OperationResult,
    PnlUpdate,
    PriceAlert,
    RiskAlert,
    ServiceDown,
    ServiceRestart,
    Severity,
    Side,
    SignalGenerated,
    SystemHealthy,
    TradeExecuted,
    Trend,
    VolumeAlert,
)

SHA = "9f2c4e1b7a3d"
Say = Callable[[str], None]


class TradingDay:
    def __init__(
        self,
        pub: Publisher,
        *,
        burst_trades: int = 2_000,
        burst_ticks: int = 10_000,
        pace: float = 1.0,
        say: Say = print,
        outage: Callable[[], None] | None = None,
        books: redis.Redis | None = None,
        reports: ReportSettings = DEFAULT,
    ) -> None:
        self.pub = pub
        self.burst_trades = burst_trades
        self.burst_ticks = burst_ticks
        self.pace = pace
        self.say = say
        self.outage = outage
        """Takes the service the monitor watches down and back (None: no monitor scene)."""
        self.books = books
        """The Redis the books (`herald books`) keep their figures in (None: no report)."""
        self.reports = reports
        self.trades: list[TradeExecuted] = []
        """Every trade published, so a test can compute the report's figures by hand."""
        self.rng = random.Random(20261128)
        self.ids: list[str] = []
        self.critical_ids: list[str] = []
        """Pages (critical severity): the report shows they did not wait behind the burst."""
        self.price = Decimal("0.523456")

    def play(self) -> list[str]:
        for scene in (
            self.ci_and_deploy,
            self.session_opens,
            self.risk_alert,
            self.service_flaps,
            self.monitor_sees_an_outage,
            self.exchange_disconnects,
            self.market_burst,
            self.maintenance,
            self.end_of_day,
        ):
            scene()
            self._pause(1.0)
        return self.ids

    # -- scenes ---------------------------------------------------------------------------

    def ci_and_deploy(self) -> None:
        self.say("CI: build started, succeeded; deploy started, completed; service restarted")
        repo = "xrp-trading/TradeServer"
        self._pub(
            BuildStarted(
                repository=repo,
                commit=SHA,
                branch="main",
                triggered_by="octocat",
                workflow="Complete CI/CD",
            )
        )
        self._pause(0.5)
        self._pub(
            BuildSuccess(
                repository=repo,
                commit=SHA,
                duration=timedelta(seconds=93),
                artifacts=("https://ci.example.com/artifacts/trade-server-1.4.2.tar.gz",),
                branch="main",
            )
        )
        self._pub(
            DeploymentStarted(
                service="trade-server", server="prod-01", version="v1.4.2", eta=timedelta(minutes=3)
            )
        )
        self._pause(0.5)
        self._pub(
            DeploymentSuccess(
                service="trade-server", server="prod-01", health_status="healthy", version="v1.4.2"
            )
        )
        self._pub(
            ServiceRestart(
                service="trade-server",
                server="prod-01",
                reason="deployment v1.4.2",
                status="active",
            )
        )

    def session_opens(self) -> None:
        self.say("Trading: 6 signals, 24 trades, a P&L update")
        for i in range(6):
            confidence = round(self.rng.uniform(0.45, 0.95), 3)
            target = self.price * Decimal("1.04")
            self._pub(
                SignalGenerated(
                    pair="XRP/USD",
                    signal="breakout" if i % 2 else "mean-reversion",
                    confidence=confidence,
                    action=Action.BUY if i % 3 else Action.SELL,
                    target_price=target.quantize(Decimal("1e-6")),
                    stop_loss=(self.price * Decimal("0.98")).quantize(Decimal("1e-6")),
                    risk_reward=round(self.rng.uniform(1.2, 3.5), 2),
                    strategy="momentum-v3",
                )
            )
            for _ in range(4):
                self._pub(self._trade())
            self._pause(0.3)
        self._pub(
            PnlUpdate(
                daily_pnl=Decimal("1284.50"),
                total_pnl=Decimal("48211.07"),
                open_positions=3,
                exposure=Decimal("25000"),
            )
        )

    def risk_alert(self) -> None:
        self.say("Risk: drawdown limit crossed")
        self._pub(
            RiskAlert(
                type="max_drawdown",
                threshold=Decimal("5.0"),
                current=Decimal("5.6"),
                action="reduce position size by 50%",
                unit="%",
            )
        )

    def service_flaps(self) -> None:
        self.say("Health: market-feed down (30 repeats fold into one page), restarted, healthy")
        for i in range(30):
            self._pub(
                ServiceDown(
                    service="market-feed",
                    server="prod-02",
                    duration=timedelta(seconds=10 * (i + 1)),
                    impact="no price updates for XRP/USD",
                )
            )
        self._pub(
            HighLatency(
                service="order-gateway", latency_ms=412.0, threshold_ms=250.0, trend=Trend.RISING
            )
        )
        self._pause(1.0)
        self._pub(
            ServiceRestart(
                service="market-feed",
                server="prod-02",
                reason="health monitor: no heartbeat for 5 minutes",
                status="active",
            )
        )
        self._pub(
            SystemHealthy(services=12, latency_ms=18.4, uptime_pct=99.97, performance="nominal")
        )

    def monitor_sees_an_outage(self) -> None:
        if self.outage is None:
            return
        self.say("Monitor: demo-api stops answering (the monitor pages), then comes back")
        self.outage()

    def exchange_disconnects(self) -> None:
        self.say("Exchange: Bitstamp connection lost (5 retries fold), then reconnected")
        for attempt in range(1, 6):
            self._pub(
                ConnectionLost(
                    exchange="bitstamp",
                    duration=timedelta(seconds=5 * attempt),
                    reconnect_attempts=attempt,
                    status=ConnectionStatus.RECONNECTING,
                )
            )
        self._pause(0.5)
        self._pub(
            ConnectionLost(
                exchange="bitstamp",
                duration=timedelta(seconds=31),
                reconnect_attempts=6,
                status=ConnectionStatus.RECONNECTED,
            )
        )

    def market_burst(self) -> None:
        self.say(
            f"Burst: {self.burst_trades:,} trades and {self.burst_ticks:,} price ticks "
            "within ~2 s, with a page in the middle"
        )
        total = self.burst_trades + self.burst_ticks
        page_at = total // 2
        started = time.monotonic()
        for n in range(total):
            if n == page_at:
                self._pub(
                    ServiceDown(
                        service="risk-engine",
                        server="prod-03",
                        duration=timedelta(seconds=15),
                        impact="orders accepted without risk checks",
                    )
                )
            if n % (total // max(self.burst_trades, 1) or 1) == 0 and self.burst_trades:
                self._pub(self._trade())
            else:
                self._pub(self._tick())
            if n % 1_000 == 999:  # spread the burst over ~2 s, as a feed would
                lag = started + 2.0 * self.pace * (n + 1) / total - time.monotonic()
                if lag > 0:
                    time.sleep(lag)
        for pair in ("XRP/USD", "XRP/EUR", "XRP/BTC"):
            self._pub(
                VolumeAlert(
                    pair=pair,
                    volume=Decimal(4_100_000),
                    average_volume=Decimal(1_250_000),
                    ratio=3.28,
                    window=timedelta(minutes=15),
                )
            )

    def maintenance(self) -> None:
        self.say("Maintenance: a window scheduled, a manual restart logged")
        starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
        self._pub(
            MaintenanceScheduled(
                service="exchange-gateway",
                starts_at=starts,
                duration=timedelta(minutes=15),
                description="TLS certificate rotation",
                impact="quotes paused",
            )
        )
        self._pub(
            ManualOperation(
                operator="alice",
                operation="restart",
                service="risk-engine",
                result=OperationResult.SUCCESS,
                server="prod-03",
                details="after the burst's page",
            )
        )

    def end_of_day(self) -> None:
        """Today's report as the books computed it, claimed as the schedule claims it."""
        if self.books is None:
            return
        self.say("Report: today's P&L from the books (the monitor sends the health summaries)")
        self.pub.flush(30)
        event_id = daily_report(self.books, self.reports, self.pub)
        if event_id:
            self.ids.append(event_id)
        else:
            self.say("Report: today's report was posted already; not posting it twice")

    # -- helpers --------------------------------------------------------------------------

    def _trade(self) -> TradeExecuted:
        self.price = max(
            Decimal("0.01"), self.price + Decimal(self.rng.randint(-300, 300)) / 1_000_000
        )
        return TradeExecuted(
            pair="XRP/USD",
            side=self.rng.choice([Side.BUY, Side.SELL]),
            amount=Decimal(self.rng.randint(100, 25_000)),
            price=self.price,
            pnl=Decimal(self.rng.randint(-25_000, 40_000)) / 100,
            latency_ms=round(self.rng.uniform(0.8, 4.0), 2),
            strategy=self.rng.choice(["momentum-v3", "mean-reversion-v2", "market-maker"]),
            executed_at=datetime.now(UTC),
        )

    def _tick(self) -> PriceAlert:
        pair = self.rng.choice(["XRP/USD", "XRP/EUR", "XRP/BTC", "XRP/USDT", "XRP/GBP"])
        previous = self.price
        price = max(Decimal("0.01"), previous * (1 + Decimal(self.rng.randint(-300, 300)) / 10_000))
        change = ((price - previous) / previous * 100).quantize(Decimal("0.01"))
        return PriceAlert(
            pair=pair,
            price=price.quantize(Decimal("1e-6")),
            previous_price=previous,
            change_pct=change,
            window=timedelta(minutes=1),
            exchange="bitstamp",
        )

    def _pub(self, event: AnyEvent) -> None:
        if isinstance(event, TradeExecuted):
            self.trades.append(event)
        event_id = self.pub.publish(event)
        self.ids.append(event_id)
        if event.default_severity is Severity.CRITICAL:
            self.critical_ids.append(event_id)

    def _pause(self, seconds: float) -> None:
        if self.pace > 0:
            time.sleep(seconds * self.pace)


def daily_report(
    client: redis.Redis, settings: ReportSettings, pub: Publisher, timeout: float = 60.0
) -> str:
    """Once the books have counted everything published so far, post today's report
    (with its chart) as `herald report daily --post` would, through the schedule's claim:
    its event id, or "" when today's report was posted already (at the close the schedule
    then sends only a correction, if trades came after)."""
    wait_until(lambda: books_lag(client).caught_up, timeout, "the books to count the trades", 0.1)
    now = datetime.now(UTC)
    sent = reporter(client, settings, pub).post_now(period_containing("daily", now, settings), now)
    return sent.event_id if sent else ""
