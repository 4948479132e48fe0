"""CI/CD cards: builds, deployments and restarts."""

from schemas import (
    BuildFailure,
    BuildStarted,
    BuildSuccess,
    DeploymentFailed,
    DeploymentStarted,
    DeploymentSuccess,
    ServiceRestart,
)
from worker.embeds import Card, Colour, code, field, link, links, text, title
from worker.formatting import duration
from worker.limits import EMPTY


def _logs(url: str | None) -> str:
    return link("View logs", url) if url else EMPTY


def build_started(ev: BuildStarted) -> Card:
    fields = [
        field("Commit", code(ev.commit)),
        field("Branch", text(ev.branch)),
        field("Triggered By", text(ev.triggered_by)),
    ]
    if ev.workflow:
        fields.append(field("Workflow", text(ev.workflow)))
    if ev.run_url:
        fields.append(field("Run", link("View run", ev.run_url)))
    return Card(title("🔨", "Build Started", ev.repository), Colour.BLUE, fields)


def build_success(ev: BuildSuccess) -> Card:
    fields = [
        field("Repository", text(ev.repository)),
        field("Commit", code(ev.commit)),
        field("Duration", duration(ev.duration)),
    ]
    if ev.branch:
        fields.append(field("Branch", text(ev.branch)))
    fields.append(field("Artifacts", links(ev.artifacts) if ev.artifacts else "none"))
    return Card(title("✅", "Build Successful", ev.repository), Colour.GREEN, fields)


def build_failure(ev: BuildFailure) -> Card:
    fields = [
        field("Repository", text(ev.repository)),
        field("Commit", code(ev.commit)),
    ]
    if ev.branch:
        fields.append(field("Branch", text(ev.branch)))
    fields += [field("Logs", _logs(ev.logs)), field("Error", text(ev.error), inline=False)]
    return Card(title("❌", "Build Failed", ev.repository), Colour.RED, fields)


def deployment_started(ev: DeploymentStarted) -> Card:
    fields = [
        field("Target Server", text(ev.server)),
        field("Service", text(ev.service)),
        field("Version", text(ev.version)),
    ]
    if ev.eta is not None:
        fields.append(field("ETA", duration(ev.eta)))
    return Card(title("🚀", "Deployment Started", ev.service), Colour.BLUE, fields)


def deployment_success(ev: DeploymentSuccess) -> Card:
    fields = [
        field("Service", text(ev.service)),
        field("Server", text(ev.server)),
        field("Health Status", text(ev.health_status)),
    ]
    if ev.version:
        fields.append(field("Version", text(ev.version)))
    fields.append(field("Logs", _logs(ev.logs)))
    return Card(title("🎉", "Deployment Complete", ev.service), Colour.GREEN, fields)


def deployment_failed(ev: DeploymentFailed) -> Card:
    fields = [
        field("Server", text(ev.server)),
        field("Service Status", text(ev.service_status)),
    ]
    if ev.version:
        fields.append(field("Version", text(ev.version)))
    fields.append(field("Logs", _logs(ev.logs)))
    if ev.error:
        fields.append(field("Error", text(ev.error), inline=False))
    return Card(title("❌", "Deployment Failed", ev.service), Colour.RED, fields)


def service_restart(ev: ServiceRestart) -> Card:
    """Yellow; the status says whether it came back (`active`)."""
    fields = [
        field("Service", text(ev.service)),
        field("Server", text(ev.server)),
        field("Status", text(ev.status)),
        field("Reason", text(ev.reason), inline=False),
    ]
    return Card(title("🔄", "Service Restarted", ev.service), Colour.YELLOW, fields)
