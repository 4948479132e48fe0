"""State changes become events: one page for checks that die together."""

from monitor.alerts import Pager
from monitor.settings import monitor_settings
from monitor.state import Change
from schemas import ConnectionLost, ConnectionStatus, HighLatency, ServiceDown, ServiceRecovered
from schemas.types import Trend


class Sent(list):
    """Publisher.publish's shape: the event, and keyword options kept beside it."""

    def __call__(self, event, **how):
        self.append(event)
        self.how = how


class Clock:
    now = 100.0

    def __call__(self):
        return self.now


def checks(*names, **extra):
    specs = [
        {"name": n, "kind": "heartbeat", "server": "prod-1", "impact": f"no {n}", **extra}
        for n in names
    ]
    return monitor_settings({"checks": specs}).checks


def test_checks_that_go_down_together_page_once_naming_all_of_them():
    sent, clock = Sent(), Clock()
    pager = Pager(sent, group_within_s=1.0, clock=clock)
    a, b, c = checks("trade-server", "order-gateway", "market-feed")
    pager.take([Change("down", a, 100.0, 70.0, detail="HTTP 503")])
    clock.now = 100.4
    pager.take([Change("down", b, 100.2, 71.0), Change("down", c, 100.4, 72.0)])
    pager.flush(100.5)
    assert sent == []  # still inside the grouping window
    pager.flush(101.1)
    assert len(sent) == 1
    assert pager.pages == 1
    page = sent[0]
    assert isinstance(page, ServiceDown)
    assert page.service == "3 services: trade-server, order-gateway, market-feed"
    assert page.server == "prod-1"
    assert "no trade-server (HTTP 503)" in page.impact
    assert "market-feed" in page.impact
    assert page.duration.total_seconds() == 31.1  # since the first failure
    assert sent.how == {"dedup_key": "group:70.0"}  # its own fold key: recoveries cannot close it


def test_one_check_down_pages_with_its_own_name_and_impact():
    sent = Sent()
    pager = Pager(sent, group_within_s=1.0, clock=Clock())
    (api,) = checks("api")
    pager.take([Change("down", api, 100.0, 90.0, detail="refused")])
    pager.flush(101.0)
    assert [(p.service, p.impact) for p in sent] == [("api", "no api (refused)")]


def test_recoveries_and_latency_go_out_at_once():
    sent = Sent()
    pager = Pager(sent, group_within_s=5.0, clock=Clock())
    (api,) = checks("api", latency_warn="300ms")
    pager.take([Change("up", api, 200.0, 80.0), Change("slow", api, 201.0, latency_ms=512.0,
                                                        trend=Trend.RISING)])  # fmt: skip
    recovered, slow = sent
    assert isinstance(recovered, ServiceRecovered)
    assert recovered.down_for.total_seconds() == 120.0
    assert isinstance(slow, HighLatency)
    assert slow.threshold_ms == 300.0


def test_an_exchange_heartbeat_speaks_as_a_connection():
    sent = Sent()
    pager = Pager(sent, group_within_s=5.0, clock=Clock())
    (feed,) = checks("bitstamp-feed", exchange="bitstamp")
    pager.take([Change("down", feed, 100.0, 40.0)])
    pager.take([Change("up", feed, 300.0, 40.0)])
    assert [type(e) for e in sent] == [ConnectionLost, ConnectionLost]
    assert sent[0].status is ConnectionStatus.FAILED
    assert sent[0].exchange == "bitstamp"
    assert sent[1].status is ConnectionStatus.RECONNECTED
    assert sent[1].duration.total_seconds() == 260.0


def test_a_check_back_before_its_page_went_out_says_nothing():
    sent = Sent()
    pager = Pager(sent, group_within_s=5.0, clock=Clock())
    (api,) = checks("api")
    pager.take([Change("down", api, 100.0, 90.0)])
    pager.take([Change("up", api, 101.0, 90.0)])
    pager.flush(200.0)
    assert sent == []
