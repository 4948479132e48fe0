"""Fixtures: a sandbox per test (Discord's default limits) and a shared unlimited one."""

from collections.abc import Iterator

import httpx
import pytest

from sandbox.testing import SandboxHandle, run_sandbox


@pytest.fixture
def sandbox() -> Iterator[SandboxHandle]:
    """A fresh sandbox with Discord's limits (5/2s per webhook, 30/60s per channel, 50/s)."""
    with run_sandbox() as handle:
        yield handle


@pytest.fixture(scope="module")
def unlimited_sandbox() -> Iterator[SandboxHandle]:
    """One sandbox per module with limits off, for contract tests that send many bodies."""
    with run_sandbox(no_limits=True) as handle:
        yield handle


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as c:
        yield c
