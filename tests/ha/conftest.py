"""Fixture: one primary, one replica and three Sentinels as real processes."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ha.cluster import Sentinels


@pytest.fixture
def sentinels(tmp_path: Path) -> Iterator[Sentinels]:
    cluster = Sentinels(tmp_path / "ha")
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
