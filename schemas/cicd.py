"""CI/CD and deployment events (the build, deploy and restart steps of a CI/CD workflow)."""

from datetime import timedelta
from typing import Annotated, ClassVar

from msgspec import Meta

from schemas.base import Event, Severity
from schemas.types import CommitSha, Name, Text, Url


class BuildStarted(Event, frozen=True):
    repository: Name
    commit: CommitSha
    branch: Name
    triggered_by: Name
    workflow: Name | None = None
    run_url: Url | None = None


class BuildSuccess(Event, frozen=True):
    repository: Name
    commit: CommitSha
    duration: timedelta
    artifacts: Annotated[tuple[Url, ...], Meta(max_length=25)] = ()
    branch: Name | None = None


class BuildFailure(Event, frozen=True):
    default_severity: ClassVar[Severity] = Severity.WARNING

    repository: Name
    commit: CommitSha
    error: Text
    logs: Url | None = None
    branch: Name | None = None


class DeploymentStarted(Event, frozen=True):
    service: Name
    server: Name
    version: Name
    eta: timedelta | None = None


class DeploymentSuccess(Event, frozen=True):
    service: Name
    server: Name
    health_status: Name
    version: Name | None = None
    logs: Url | None = None


class DeploymentFailed(Event, frozen=True):
    default_severity: ClassVar[Severity] = Severity.CRITICAL

    service: Name
    server: Name
    service_status: Name
    version: Name | None = None
    error: Text | None = None
    logs: Url | None = None


class ServiceRestart(Event, frozen=True):
    service: Name
    server: Name
    reason: Text
    status: Name
    """`systemctl is-active` output; `active` means the service recovered."""
