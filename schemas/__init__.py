"""Herald's event contract: one frozen msgspec Struct per kind, wrapped in an Envelope.

    from schemas import TradeExecuted, Side
    ev = TradeExecuted(pair="XRP/USD", side=Side.BUY, amount=Decimal("1500"), ...)

Field constraints are checked when bytes are decoded (`schemas.codec.decode`), and
decimal checks also at construction; `validate` checks a constructed event fully.
"""

from schemas.attachments import Attachment
from schemas.base import Event, Lane, Severity, kind_of
from schemas.catalog import EVENT_TYPES, KINDS, AnyEvent
from schemas.cicd import (
    BuildFailure,
    BuildStarted,
    BuildSuccess,
    DeploymentFailed,
    DeploymentStarted,
    DeploymentSuccess,
    ServiceRestart,
)
from schemas.codec import decode, encode, from_json, to_builtins, to_json
from schemas.envelope import SCHEMA_VERSION, Envelope, wrap
from schemas.health import (
    ConnectionLost,
    HighLatency,
    ServiceDown,
    ServiceRecovered,
    SystemHealthy,
)
from schemas.ids import event_id_millis, is_event_id, new_event_id
from schemas.maintenance import MaintenanceScheduled, ManualOperation
from schemas.market import PriceAlert, VolumeAlert
from schemas.summaries import DailySummary, HealthSummary, PnlReport, ReportPeriod
from schemas.trading import PnlUpdate, RiskAlert, SignalGenerated, TradeExecuted
from schemas.types import Action, ConnectionStatus, OperationResult, Side, Trend
from schemas.validate import build, validate

__all__ = [
    "EVENT_TYPES",
    "KINDS",
    "SCHEMA_VERSION",
    "Action",
    "AnyEvent",
    "Attachment",
    "BuildFailure",
    "BuildStarted",
    "BuildSuccess",
    "ConnectionLost",
    "ConnectionStatus",
    "DailySummary",
    "DeploymentFailed",
    "DeploymentStarted",
    "DeploymentSuccess",
    "Envelope",
    "Event",
    "HealthSummary",
    "HighLatency",
    "Lane",
    "MaintenanceScheduled",
    "ManualOperation",
    "OperationResult",
    "PnlReport",
    "PnlUpdate",
    "PriceAlert",
    "ReportPeriod",
    "RiskAlert",
    "ServiceDown",
    "ServiceRecovered",
    "ServiceRestart",
    "Severity",
    "Side",
    "SignalGenerated",
    "SystemHealthy",
    "TradeExecuted",
    "Trend",
    "VolumeAlert",
    "build",
    "decode",
    "encode",
    "event_id_millis",
    "from_json",
    "is_event_id",
    "kind_of",
    "new_event_id",
    "to_builtins",
    "to_json",
    "validate",
    "wrap",
]
