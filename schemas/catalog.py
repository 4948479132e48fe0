"""Every event kind in one place: the union decoders use and the kind -> class map."""

from typing import Final

from schemas.base import Event
from schemas.cicd import (
    BuildFailure,
    BuildStarted,
    BuildSuccess,
    DeploymentFailed,
    DeploymentStarted,
    DeploymentSuccess,
    ServiceRestart,
)
from schemas.health import (
    ConnectionLost,
    HighLatency,
    ServiceDown,
    ServiceRecovered,
    SystemHealthy,
)
from schemas.maintenance import MaintenanceScheduled, ManualOperation
from schemas.market import PriceAlert, VolumeAlert
from schemas.summaries import DailySummary, HealthSummary, PnlReport
from schemas.trading import PnlUpdate, RiskAlert, SignalGenerated, TradeExecuted

AnyEvent = (
    BuildStarted
    | BuildSuccess
    | BuildFailure
    | DeploymentStarted
    | DeploymentSuccess
    | DeploymentFailed
    | ServiceRestart
    | TradeExecuted
    | SignalGenerated
    | RiskAlert
    | PnlUpdate
    | ServiceDown
    | ServiceRecovered
    | HighLatency
    | ConnectionLost
    | SystemHealthy
    | PriceAlert
    | VolumeAlert
    | MaintenanceScheduled
    | ManualOperation
    | DailySummary
    | HealthSummary
    | PnlReport
)

EVENT_TYPES: Final[tuple[type[Event], ...]] = AnyEvent.__args__
KINDS: Final[dict[str, type[Event]]] = {cls.kind(): cls for cls in EVENT_TYPES}
